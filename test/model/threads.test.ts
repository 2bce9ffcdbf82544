// ONNX Runtime's threads while a reader thread parses: which session serves, on real sessions of a fixture
// model, from chunk times given by the test (the times are what the policy reads; the sessions are real).
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/model/session.js';
import { modelThreads, type ChunkTimes } from '../../src/model/threads.js';
import { model } from '../support/cli.js';

// The fixture regressor, counting the second sessions asked for.
async function counted(o: { threads?: number } = {}): Promise<LoadedModel & { asked: number[] }> {
  const m = await loadModel(model('regressor'), o);
  const asked: number[] = [];
  const create = m.withThreads;
  return Object.assign(m, {
    asked,
    withThreads: (n: number) => {
      asked.push(n);
      return create(n);
    },
  });
}

async function predict(s: ort.InferenceSession): Promise<number[]> {
  const out = await s.run({ input: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [2, 2]) });
  return Array.from(out.variable.data as Float32Array);
}

const chunk = (read: number, model: number, write: number, batchFirst = true): ChunkTimes => ({ read, model, write, rows: 8192, batchFirst });

const sessionOf = async (t: ReturnType<typeof modelThreads>) => (await t.next()).session;
const sliceOf = async (t: ReturnType<typeof modelThreads>) => (await t.next()).slice;

// Observe `n` chunks with the same times.
function feed(t: ReturnType<typeof modelThreads>, n: number, times: ChunkTimes): void {
  for (let i = 0; i < n; i++) t.observe(times);
}

describe('modelThreads', () => {
  it('reading in this thread: the model session, and no second one', async () => {
    const m = await counted();
    const t = modelThreads(m, false, 2);
    feed(t, 20, chunk(20, 1, 1));
    expect(await sessionOf(t)).toBe(m.session);
    expect(m.asked).toEqual([]);
  });

  it('model.threads set, or one core: the model session throughout', async () => {
    const set = await counted({ threads: 2 });
    expect(await sessionOf(modelThreads(set, true, 2))).toBe(set.session);
    const one = await counted();
    expect(await sessionOf(modelThreads(one, true, 1))).toBe(one.session);
    expect([...set.asked, ...one.asked]).toEqual([]);
  });

  it('a model file above 1 MiB keeps its one session (a second copy costs memory)', async () => {
    const m = await counted();
    m.bytes = 2 * 1024 * 1024;
    expect(await sessionOf(modelThreads(m, true, 2))).toBe(m.session);
    expect(m.asked).toEqual([]);
  });

  it('a reader thread: a session with one thread fewer than cores, that scores like the model session', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 4);
    const s = await sessionOf(t);
    expect(m.asked).toEqual([3]);
    expect(s).not.toBe(m.session);
    expect(await predict(s)).toEqual(await predict(m.session));
    await t.release();
    expect(await sessionOf(t)).toBe(m.session);
  });

  it('keeps it when the model side is at most 1.5 × the reading (10 chunks: 2 to settle, 4 whole, 4 sliced)', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    const fewer = await sessionOf(t);
    feed(t, 2, chunk(10, 100, 100)); // settling chunks do not count
    feed(t, 8, chunk(20, 25, 5));
    expect(await sessionOf(t)).toBe(fewer);
    feed(t, 20, chunk(1, 100, 100)); // decided: later chunks change nothing
    expect(await sessionOf(t)).toBe(fewer);
    await t.release();
  });

  it('goes back to the all-cores model session when the model side is slower than 1.5 × the reading', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    const fewer = await sessionOf(t);
    feed(t, 9, chunk(20, 28, 4));
    expect(await sessionOf(t)).toBe(fewer); // 9 chunks: not decided yet
    t.observe(chunk(20, 28, 4));
    expect(await sessionOf(t)).toBe(m.session);
    await expect(predict(fewer)).rejects.toThrow(); // released
    expect(await predict(m.session)).toEqual([0.5, -0.5]);
  });

  it('without reader times it keeps the session it has', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    const fewer = await sessionOf(t);
    feed(t, 12, { model: 100, write: 100, rows: 8192, batchFirst: true });
    expect(await sessionOf(t)).toBe(fewer);
    await t.release();
  });

  it('when ONNX Runtime refuses the second session, the model session serves', async () => {
    const m = await counted();
    m.withThreads = () => Promise.reject(new Error('refused'));
    const t = modelThreads(m, true, 2);
    expect(await sessionOf(t)).toBe(m.session);
    await t.release();
  });

  it('tries calls of 1024 rows on chunks 7–10 and keeps them when ≥ 5% quicker a row', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    const slices: (number | undefined)[] = [];
    for (let i = 0; i < 10; i++) {
      slices.push(await sliceOf(t));
      t.observe(chunk(20, i < 6 ? 20 : 18, 2));
    }
    expect(slices).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, 1024, 1024, 1024, 1024]);
    expect(await sliceOf(t)).toBe(1024);
    await t.release();
  });

  it('goes back to whole chunks when slices are not quicker, and never slices outputs that are not batch-first', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    feed(t, 6, chunk(20, 20, 2));
    feed(t, 4, chunk(20, 19.5, 2));
    expect(await sliceOf(t)).toBeUndefined();
    await t.release();
    const u = modelThreads(m, true, 2);
    u.observe(chunk(20, 20, 2, false));
    const seen: (number | undefined)[] = [];
    for (let i = 0; i < 12; i++) {
      u.observe(chunk(20, 5, 2));
      seen.push(await sliceOf(u));
    }
    expect(seen.every((s) => s === undefined)).toBe(true);
    await u.release();
  });

  it('checks fewer threads against the all-cores session on 1024 rows of the first timed chunk, and goes back to all cores when outputs differ', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    feed(t, 2, chunk(20, 10, 2));
    const call = await t.next();
    expect(call.session).not.toBe(m.session);
    expect(call.check).toEqual({ a: { session: call.session }, b: { session: m.session }, rows: 1024 });
    t.compared(true);
    t.observe(chunk(20, 10, 2));
    expect((await t.next()).check).toBeUndefined(); // checked once
    const u = modelThreads(m, true, 2);
    feed(u, 2, chunk(20, 10, 2));
    expect((await u.next()).check).toBeDefined();
    u.compared(false);
    expect(await sessionOf(u)).toBe(m.session);
    await t.release();
  });

  it('runs the first sliced chunk also whole, and never slices when the outputs differ', async () => {
    const m = await counted();
    const t = modelThreads(m, true, 2);
    feed(t, 6, chunk(20, 20, 2));
    const call = await t.next();
    expect(call.slice).toBe(1024);
    expect(call.check).toEqual({ b: { session: call.session } }); // the sliced call against a whole one
    t.compared(false);
    const later: (number | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      t.observe(chunk(20, i === 0 ? 10 : 20, 2));
      later.push(await sliceOf(t));
    }
    expect(later.every((x) => x === undefined)).toBe(true);
    await t.release();
  });
});
