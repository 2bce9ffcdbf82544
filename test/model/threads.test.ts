// ONNX Runtime's threads while a reader thread parses: which session serves, on real sessions of a fixture
// model in a real model thread, from chunk times given by the test (the times are what the policy reads).
import { afterEach, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel, type ModelCopies } from '../../src/model/session.js';
import type { ModelThread } from '../../src/model/model-thread.js';
import { CALL_ROWS, type NamedTensor } from '../../src/model/tensors.js';
import { callModel, modelThreads, type ChunkTimes } from '../../src/model/threads.js';
import { model } from '../support/cli.js';
import { noteCalls, type NotedCall } from '../support/model-calls.js';

const loaded: LoadedModel[] = [];
afterEach(async () => {
  for (const m of loaded.splice(0)) await m.close();
});

// The fixture regressor, counting the second sessions asked for.
async function counted(o: { threads?: number } = {}): Promise<LoadedModel & { asked: number[] }> {
  const m = await loadModel(model('regressor'), o);
  loaded.push(m);
  const asked: number[] = [];
  const open = m.thread.openFewer.bind(m.thread);
  m.thread.openFewer = (n: number) => {
    asked.push(n);
    return open(n);
  };
  return Object.assign(m, { asked });
}

async function predict(m: LoadedModel, session: 'own' | 'fewer'): Promise<number[]> {
  const out = await m.thread.score([{ input: 'input', type: 'float32', data: Float32Array.from([1, 2, 3, 4]), dims: [2, 2] }], 2, { fetch: ['variable'] }, session);
  return Array.from(out.outputs.variable.data as Float32Array);
}

const chunk = (read: number, model: number, write: number): ChunkTimes => ({ read, model, write, rows: 8192 });

// The session of the next call; a check it asks for is answered as the run does once the call returns.
async function sessionOf(t: ReturnType<typeof modelThreads>, same = true): Promise<'own' | 'fewer'> {
  const call = await t.next();
  if (call.check) t.compared(same);
  return call.session;
}

// Observe `n` chunks with the same times.
function feed(t: ReturnType<typeof modelThreads>, n: number, times: ChunkTimes): void {
  for (let i = 0; i < n; i++) t.observe(times);
}

describe('modelThreads', () => {
  it('reading in this thread: the own session, and no second one', async () => {
    const m = await counted();
    const t = modelThreads(m, false, 2);
    feed(t, 20, chunk(20, 1, 1));
    expect(await sessionOf(t)).toBe('own');
    expect(m.asked).toEqual([]);
  });

  it('model.threads set, or one core: the own session throughout', async () => {
    const set = await counted({ threads: 2 });
    expect(set.copyable).toBe(false);
    expect(await sessionOf(modelThreads(set, true, 2))).toBe('own');
    const one = await counted();
    expect(await sessionOf(modelThreads(one, true, 1))).toBe('own');
    expect([...set.asked, ...one.asked]).toEqual([]);
  });

  it('a model that may not be copied (a file above 1 MiB) keeps its one session', async () => {
    const m = await counted();
    m.copyable = false;
    expect(await sessionOf(modelThreads(m, true, 2))).toBe('own');
    expect(m.asked).toEqual([]);
  });

  it('a reader thread: a session with one thread fewer than cores, that scores like the own session', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 4);
    expect(await sessionOf(t)).toBe('fewer');
    expect(m.asked).toEqual([3]);
    expect(await predict(m, 'fewer')).toEqual(await predict(m, 'own'));
    await t.release();
    expect(await sessionOf(t)).toBe('own');
  });

  it('keeps it when the model side is at most 1.5 × the reading (6 chunks: 2 to settle, 4 timed)', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    expect(await sessionOf(t)).toBe('fewer');
    feed(t, 2, chunk(10, 100, 100)); // settling chunks do not count
    feed(t, 4, chunk(20, 25, 5));
    expect(await sessionOf(t)).toBe('fewer');
    feed(t, 20, chunk(1, 100, 100)); // decided: later chunks change nothing
    expect(await sessionOf(t)).toBe('fewer');
    await t.release();
  });

  it('goes back to the all-cores session when the model side is slower than 1.5 × the reading', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    expect(await sessionOf(t)).toBe('fewer');
    feed(t, 5, chunk(20, 28, 4));
    expect(await sessionOf(t)).toBe('fewer'); // 5 chunks: not decided yet
    t.observe(chunk(20, 28, 4));
    expect(await sessionOf(t)).toBe('own');
    await t.release();
    expect(await predict(m, 'own')).toEqual([0.5, -0.5]);
  });

  it('without reader times it keeps the session it has', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    feed(t, 12, { model: 100, write: 100, rows: 8192 });
    expect(await sessionOf(t)).toBe('fewer');
    await t.release();
  });

  it('when ONNX Runtime refuses the second session, the own session serves', async () => {
    const m = await counted();
    m.thread.openFewer = () => Promise.reject(new Error('refused'));
    const t = modelThreads(m, true, 2);
    expect(await sessionOf(t)).toBe('own');
    await t.release();
  });

  it('checks fewer threads against the own session on one call of the first chunk scored with them, and goes back to all cores when outputs differ', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    const call = await t.next();
    expect(call).toEqual({ session: 'fewer', check: { rows: CALL_ROWS } });
    t.compared(true);
    t.observe(chunk(20, 10, 2));
    expect((await t.next()).check).toBeUndefined(); // checked once
    feed(t, 3, chunk(20, 10, 2));
    expect((await t.next()).check).toBeUndefined();
    const u = modelThreads(m, true, 2);
    expect((await u.next()).check).toBeDefined();
    u.compared(false);
    expect(await sessionOf(u)).toBe('own');
    await t.release();
  });

  it('a call asked for before the check is answered waits for the answer, and goes to the own session when the outputs differ', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    expect(await t.next()).toEqual({ session: 'fewer', check: { rows: CALL_ROWS } });
    let second: string | undefined;
    const waiting = t.next().then((c) => (second = c.session));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second).toBeUndefined();
    t.compared(false);
    await waiting;
    expect(second).toBe('own');
    await t.release();
  });

  it('two calls asked for while the second session opens (a chunk read before the call of the first one starts): the second waits for the check of the first, and goes to the own session when the outputs differ', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    const first = t.next();
    const second = t.next();
    expect(await first).toEqual({ session: 'fewer', check: { rows: CALL_ROWS } });
    t.compared(false);
    expect(await second).toEqual({ session: 'own' });
    await t.release();
  });

  it('a check call that fails counts as outputs that differ: the calls after it go to the own session', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    const feeds = [{ input: 'input', type: 'float32' as const, data: Float32Array.from([1, 2, 3]), dims: [1, 3] }];
    await expect(callModel(m, t, feeds, 1, { fetch: ['variable'] })).rejects.toThrow();
    expect(await t.next()).toEqual({ session: 'own' });
    await t.release();
  });

  it('the model thread runs the check: the same outputs on both sessions, and their times', async () => {
    const m = await counted();
    expect(await m.thread.openFewer(1)).toBe(true);
    const data = Float32Array.from({ length: 3000 * 2 }, (_, i) => i / 7);
    const scored = await m.thread.score([{ input: 'input', type: 'float32', data, dims: [3000, 2] }], 3000, { fetch: ['variable'] }, 'fewer', { rows: 1024 });
    expect(scored.same).toBe(true);
    expect(scored.outputs.variable.dims).toEqual([3000, 1]);
    expect(scored.ms).toBeGreaterThan(0);
    expect(data.length).toBe(0); // the feed moved to the thread…
    expect((scored.feeds[0] as Float32Array)[7]).toBe(Math.fround(1)); // …and came back
  });
});

// `rows` rows of the fixture forest's four features.
function forestFeeds(rows: number): NamedTensor[] {
  return [{ input: 'input', type: 'float32', data: Float32Array.from({ length: rows * 4 }, (_, i) => ((i * 7919) % 1000) / 1000), dims: [rows, 4] }];
}

// The forest's outputs for 5000 rows on `thread`, as bytes.
async function forestBytes(thread: ModelThread): Promise<Buffer> {
  const out = (await thread.score(forestFeeds(5000), 5000, { fetch: ['variable'] })).outputs.variable.data as Float32Array;
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

// The forest read on this thread on 2 cores, its copy loaded and taken up (the second chunk starts it): the
// next chunk's calls are shared between the own thread and the copy.
async function sharing() {
  const m = await loadModel(model('forest'));
  loaded.push(m);
  const t = modelThreads(m, false, 2);
  const [copy] = await Promise.all(m.copies?.take(1) ?? []);
  await t.next(2);
  await t.next(2);
  return { m, t, copy };
}

describe('a small tree ensemble', () => {
  it('is scored on one thread per session, in parallel calls on copies in more model threads, with the bits of one thread', async () => {
    const m = await loadModel(model('forest'));
    loaded.push(m);
    expect(m.copies).toBeDefined();
    expect(m.copyable).toBe(false);
    const t = modelThreads(m, true, 3);
    // Loaded ahead here, so that each joins as soon as the calls take it up.
    const copies = await Promise.all(m.copies?.take(2) ?? []);
    // A call goes to the thread with the fewest calls in flight, the own one first. The first copy is taken up
    // at once; the second when every thread has a call in flight (the third call, which the own thread takes).
    const calls: Awaited<ReturnType<typeof t.next>>[] = [];
    for (let i = 0; i < 5; i++) calls.push(await t.next());
    expect(calls.map((c) => c.thread)).toEqual([m.thread, copies[0], m.thread, copies[1], copies[0]]);
    expect(t.parallel).toBe(3);
    t.answered(calls[3]);
    expect((await t.next()).thread).toBe(copies[1]);
    // Every thread gives the bits of a session of one thread (model.threads: 1); a two-thread session of the
    // forest gives others.
    const one = await loadModel(model('forest'), { threads: 1 });
    const two = await loadModel(model('forest'), { threads: 2 });
    loaded.push(one, two);
    const expected = await forestBytes(one.thread);
    for (const thread of [m.thread, ...copies]) expect((await forestBytes(thread)).equals(expected)).toBe(true);
    expect((await forestBytes(two.thread)).equals(expected)).toBe(false);
  });

  it('calls through callModel are counted out when answered: after one alone, two at once take the own thread and the copy', async () => {
    const m = await loadModel(model('forest'));
    loaded.push(m);
    const t = modelThreads(m, true, 2);
    const [copy] = await Promise.all(m.copies?.take(1) ?? []);
    const calls: NotedCall[] = [];
    [m.thread, copy].forEach(noteCalls(calls));
    const call = () => callModel(m, t, forestFeeds(3000), 3000, { fetch: ['variable'] });
    await call();
    await Promise.all([call(), call()]);
    // Had the first call not been counted out, the second would have gone to the copy.
    expect(calls.map((c) => c.thread)).toEqual([m.thread, m.thread, copy]);
  });

  it('a short input starts one copy at most, whatever the cores', async () => {
    const m = await loadModel(model('forest'));
    loaded.push(m);
    let taken = 0;
    const copies = m.copies as ModelCopies;
    const take = copies.take.bind(copies);
    copies.take = (count) => {
      taken = count;
      return take(count);
    };
    const t = modelThreads(m, true, 8);
    await callModel(m, t, forestFeeds(10), 10, { fetch: ['variable'] });
    await callModel(m, t, forestFeeds(10), 10, { fetch: ['variable'] });
    expect(taken).toBe(1);
  });

  it('a call asked for just after close() began is answered before the thread stops', async () => {
    const m = await loadModel(model('forest'));
    const closing = m.thread.close();
    const scored = m.thread.score(forestFeeds(3000), 3000, { fetch: ['variable'] });
    await closing;
    expect((await scored).outputs.variable.dims).toEqual([3000, 2]);
  });

  it('the model closed while its copies load: they load first, then stop (stopping a thread inside ONNX Runtime aborts the process)', async () => {
    const m = await loadModel(model('forest'));
    const loading = m.copies?.take(3) ?? [];
    await m.close();
    expect((await Promise.allSettled(loading)).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
  });

  it('reading in this thread: one chunk at a time, its calls shared among the loaded threads; a copy starts from the second chunk when a chunk has more calls than threads, the next once it has loaded', async () => {
    const m = await loadModel(model('forest'));
    loaded.push(m);
    const taken: number[] = [];
    const copies = m.copies as ModelCopies;
    const take = copies.take.bind(copies);
    copies.take = (count) => {
      taken.push(count);
      return take(count);
    };
    const t = modelThreads(m, false, 3);
    expect(t.parallel).toBe(1);
    // The first chunk, of four calls: the own thread, and no copy (an input of one chunk could not use it).
    expect(await t.next(4)).toEqual({ session: 'own' });
    // One call's rows: no copy either.
    expect(await t.next(1)).toEqual({ session: 'own' });
    expect(taken).toEqual([]);
    // Four calls: the first copy starts, and the own thread scores this chunk alone.
    expect((await t.next(4)).share).toBeUndefined();
    const [first] = await Promise.all(copies.take(1));
    // Loaded: the next chunk is shared, and the second copy starts (four calls, two threads).
    expect((await t.next(4)).share).toEqual([m.thread, first]);
    const [, second] = await Promise.all(copies.take(2));
    expect((await t.next(4)).share).toEqual([m.thread, first, second]);
    // Never more threads than cores.
    await t.next(4);
    expect(taken.filter((n) => n !== 1 && n !== 2)).toEqual([]);
  });

  it("a shared chunk is scored in runs of whole calls on each thread: the bits of one thread, the chunk's own arrays back", async () => {
    const { m, t, copy } = await sharing();
    const calls: NotedCall[] = [];
    [m.thread, copy].forEach(noteCalls(calls));
    // 5000 rows are three calls of 2048 (the last one of 904 rows): one on the own thread, two on the copy.
    const feeds = forestFeeds(5000);
    const data = feeds[0].data;
    const scored = await callModel(m, t, feeds, 5000, { fetch: ['variable'] });
    expect(calls).toEqual([
      { thread: m.thread, rows: 2048 },
      { thread: copy, rows: 2952 },
    ]);
    const out = scored.outputs.variable;
    expect(out.dims).toEqual([5000, 2]);
    const one = await loadModel(model('forest'), { threads: 1 });
    loaded.push(one);
    expect(Buffer.from((out.data as Float32Array).buffer).equals(await forestBytes(one.thread))).toBe(true);
    // The chunk's arrays moved to the own thread and came back, for the reader to reuse.
    expect(data.length).toBe(0);
    expect(scored.feeds[0]).toHaveLength(5000 * 4);
  });

  it('a shared chunk fails when one of its runs fails, once every run has come back', async () => {
    const { m, t, copy } = await sharing();
    let ownAnswered = false;
    const score = m.thread.score.bind(m.thread);
    m.thread.score = (...args) => score(...args).finally(() => (ownAnswered = true));
    await copy.close();
    await expect(callModel(m, t, forestFeeds(5000), 5000, { fetch: ['variable'] })).rejects.toThrow('the model thread was closed');
    expect(ownAnswered).toBe(true);
  });

  it('one core: the own thread alone; model.threads set, or a model that is not a tree ensemble: no copies', async () => {
    const m = await loadModel(model('forest'));
    loaded.push(m);
    for (const t of [modelThreads(m, false, 1), modelThreads(m, true, 1)]) {
      expect(t.parallel).toBe(1);
      expect(await t.next(4)).toEqual({ session: 'own' });
    }
    const set = await loadModel(model('forest'), { threads: 2 });
    const regressor = await loadModel(model('regressor'));
    loaded.push(set, regressor);
    expect([set.copies, regressor.copies]).toEqual([undefined, undefined]);
  });
});
