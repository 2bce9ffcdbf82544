// Reconciliation: rows_in = rows_out + rows_rejected is checked against what the writer itself counted, and
// against the run's totals; a mismatch is a failure (RECONCILE, exit 1), never a log line.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { exitCodeOf, SbError } from '../../src/errors.js';
import type { TableWriter, WriterMark } from '../../src/table/writer.js';
import { parseJob } from '../../src/job/load.js';
import { loadModel, type LoadedModel, type ModelCopies } from '../../src/model/session.js';
import { planRun } from '../../src/pipeline/plan.js';
import { rejectsSink } from '../../src/pipeline/rejects.js';
import { WORKER_MIN_BYTES } from '../../src/pipeline/reader-thread.js';
import { InputFailure, scoreInput } from '../../src/pipeline/score-input.js';
import { totals, unreconciled, type InputRecord } from '../../src/run/record.js';
import { model } from '../support/cli.js';
import { noteCalls, type NotedCall } from '../support/model-calls.js';
import { makeFifo } from '../support/streams.js';
import { tempDir } from '../support/temp-dir.js';

// A writer that counts `lose` fewer rows than it was given (a bug stand-in).
function countingWriter(lose: number): TableWriter {
  let rows = 0;
  return {
    write: async (chunk) => {
      rows += Math.max(0, chunk.rows - lose);
    },
    commit: async () => undefined,
    abort: async () => undefined,
    get rows() {
      return rows;
    },
    streamed: false,
    mark: async (): Promise<WriterMark> => ({ bytes: 0, rows, headerDone: true }),
    rollback: async () => false,
  };
}

async function score(lose: number) {
  const d = tempDir();
  const file = path.join(d, 'in.csv');
  writeFileSync(file, 'x1,x2\n1,2\n3,4\nbad,5\n6,7\n');
  const job = parseJob(`model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: out.csv\nerrors: { max_rejected: 1 }\n`, path.join(d, 'job.yaml'));
  const m = await loadModel(job.model.path);
  const plan = planRun(job, m);
  return scoreInput(file, 'in.csv', 'csv', { job, plan, model: m, runSpec: { fetch: plan.fetch }, writer: countingWriter(lose), rejects: rejectsSink(undefined, ',') });
}

describe('scoreInput reconciles with the writer', () => {
  it('counts that agree: rows_in = rows_out + rows_rejected', async () => {
    expect(await score(0)).toMatchObject({ rowsIn: 4, rowsOut: 3, rowsRejected: 1 });
  });

  it('a writer that wrote fewer rows than were scored fails the input with RECONCILE (exit 1)', async () => {
    const err = await score(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputFailure);
    const cause = (err as InputFailure).error as SbError;
    expect(cause.code).toBe('RECONCILE');
    expect(exitCodeOf(cause)).toBe(1);
    expect(cause.describe()).toBe('in.csv: counts do not reconcile: 4 rows read, 2 written, 1 rejected');
  });
});

// A writer that notes `asked()` at each write and keeps the first float column's values; `failAt`: the write
// that throws (a full disk stand-in).
function notingWriter(asked: () => number, failAt?: number) {
  const atWrite: number[] = [];
  const values: number[] = [];
  let rows = 0;
  const writer: TableWriter = {
    ...countingWriter(0),
    write: async (chunk) => {
      atWrite.push(asked());
      if (atWrite.length === failAt) throw new SbError('WRITE_FAILED', 'disk full');
      const c = chunk.columns.find((col) => col.kind === 'float');
      if (c?.kind === 'float') for (let i = 0; i < chunk.rows; i++) values.push(c.values[c.offset + i * c.stride]);
      rows += chunk.rows;
    },
    get rows() {
      return rows;
    },
  };
  return { writer, atWrite, values };
}

// Eight rows in chunks of two, read by two reader threads (a file read by several: its next chunk is always
// there), on the model's one session (model.threads set: no thread check to wait for), through a writer that
// notes how many model calls were asked for at each write; `failAt`: the write that throws (a full disk
// stand-in).
async function overlapped(failAt?: number) {
  const d = tempDir();
  const file = path.join(d, 'in.csv');
  writeFileSync(file, 'x1,x2\n' + Array.from({ length: 8 }, (_, i) => `${i},${i + 1}\n`).join(''));
  const job = parseJob(`model: { path: ${model('regressor')}, threads: 1 }\ninput: { path: in.csv, readers: 2 }\nfeatures: { columns: [x1, x2] }\noutput: out.csv\nbatch_size: 2\n`, path.join(d, 'job.yaml'));
  const m = await loadModel(job.model.path, { threads: 1 });
  const plan = planRun(job, m);
  let asked = 0;
  const score = m.thread.score.bind(m.thread);
  m.thread.score = (...args) => {
    asked++;
    return score(...args);
  };
  const { writer, atWrite, values } = notingWriter(() => asked, failAt);
  // Read as an input of WORKER_MIN_BYTES would be: in reader threads, cut into pieces.
  const result = await scoreInput(file, 'in.csv', 'csv', { job, plan, model: m, runSpec: { fetch: plan.fetch }, writer, rejects: rejectsSink(undefined, ',') }, WORKER_MIN_BYTES).catch((e: unknown) => e);
  return { result, atWrite, values, m, fetch: plan.fetch };
}

describe('scoreInput overlaps the model with writing', () => {
  it("asks for the next chunk's call before it writes a chunk, and writes the chunks in input order", async () => {
    const { result, atWrite, values, m, fetch } = await overlapped();
    expect(result).toMatchObject({ rowsIn: 8, rowsOut: 8, rowsRejected: 0 });
    expect(atWrite).toEqual([2, 3, 4, 4]);
    const alone = await m.thread.score([{ input: 'input', type: 'float32', data: Float32Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? i / 2 : i / 2 + 0.5)), dims: [8, 2] }], 8, { fetch });
    expect(values).toEqual(Array.from(alone.outputs[fetch[0]].data as Float32Array));
    await m.close();
  });

  it("a write that fails fails the input with its error and the counts before it, while the next chunk's call was in flight; the model thread serves on", async () => {
    const { result, atWrite, m, fetch } = await overlapped(2);
    expect(result).toBeInstanceOf(InputFailure);
    expect(((result as InputFailure).error as SbError).code).toBe('WRITE_FAILED');
    expect((result as InputFailure).counts).toMatchObject({ rowsIn: 2, rowsOut: 2 });
    expect(atWrite).toEqual([2, 3]);
    const again = await m.thread.score([{ input: 'input', type: 'float32', data: Float32Array.from([1, 2]), dims: [1, 2] }], 1, { fetch });
    expect(again.outputs[fetch[0]].dims).toEqual([1, 1]);
    await m.close();
  });
});

// The forest's value of feature cell i (row i / 4, column i % 4).
const forestValue = (i: number) => ((i * 37) % 100) / 100;

// A job over `rows` rows of the forest's four features (`keys`: its input and batch_size), its model noting
// the calls of its own thread and of one copy, loaded before the input starts so that it joins as soon as the
// calls take it up.
async function forestInput(rows: number, keys: string) {
  const d = tempDir();
  const file = path.join(d, 'in.csv');
  writeFileSync(file, 'a,b,c,d\n' + Array.from({ length: rows }, (_, r) => `${[0, 1, 2, 3].map((c) => forestValue(r * 4 + c)).join(',')}\n`).join(''));
  const job = parseJob(`model: ${model('forest')}\n${keys}\nfeatures: { columns: [a, b, c, d] }\noutput: out.csv\n`, path.join(d, 'job.yaml'));
  const m = await loadModel(job.model.path);
  onTestFinished(() => m.close());
  const calls: NotedCall[] = [];
  const note = noteCalls(calls);
  note(m.thread);
  const [copy] = await Promise.all((m.copies as ModelCopies).take(1).map((loaded) => loaded.then(note)));
  return { file, job, m, plan: planRun(job, m), calls, copy };
}

// The first output's first column for all `rows` forest rows in one call on `m`'s own thread.
async function oneThreadValues(m: LoadedModel, rows: number, fetch: string[]): Promise<number[]> {
  const alone = await m.thread.score([{ input: 'input', type: 'float32', data: Float32Array.from({ length: rows * 4 }, (_, i) => forestValue(i)), dims: [rows, 4] }], rows, { fetch });
  return Array.from(alone.outputs[fetch[0]].data as Float32Array).filter((_, i) => i % 2 === 0);
}

// Twelve rows of the forest's four features in chunks of two, read by two reader threads (the next chunk is
// always there), noting at each write how many model calls were asked for, and which thread took each.
describe('a tree ensemble', () => {
  it.skipIf(os.availableParallelism() < 2)('scores the chunks of a tree ensemble in parallel calls on its copies, and writes them in input order with the bits of one call', async () => {
    const { file, job, m, plan, calls } = await forestInput(12, 'input: { path: in.csv, readers: 2 }\nbatch_size: 2');
    const { writer, atWrite, values } = notingWriter(() => calls.length);
    const result = await scoreInput(file, 'in.csv', 'csv', { job, plan, model: m, runSpec: { fetch: plan.fetch }, writer, rejects: rejectsSink(undefined, ',') }, WORKER_MIN_BYTES);
    expect(result).toMatchObject({ rowsIn: 12, rowsOut: 12, rowsRejected: 0 });
    // Once the copy joined: two calls in flight beyond the chunk written (calls asked for at write i, minus
    // the i + 1 chunks written), on more than one thread.
    expect(Math.max(...atWrite.map((asked, i) => asked - i - 1))).toBe(2);
    expect(new Set(calls.map((c) => c.thread)).size).toBeGreaterThan(1);
    expect(values).toEqual(await oneThreadValues(m, 12, plan.fetch));
  });
});

// 15,000 rows of the forest's four features in chunks of 5000 (three calls each), read on this thread: each
// chunk is scored whole before the next is read, its calls shared among the own thread and the copy (started
// by the second chunk).
describe('a tree ensemble read on this thread', () => {
  it.skipIf(os.availableParallelism() < 2)("shares each chunk's calls among its threads once the copy has loaded, with the bits of one thread", async () => {
    // The copy joins from the third chunk (the second one starts it).
    const { file, job, m, plan, calls, copy } = await forestInput(15000, 'input: in.csv\nbatch_size: 5000');
    const { writer, values } = notingWriter(() => calls.length);
    const result = await scoreInput(file, 'in.csv', 'csv', { job, plan, model: m, runSpec: { fetch: plan.fetch }, writer, rejects: rejectsSink(undefined, ',') });
    expect(result).toMatchObject({ rowsIn: 15000, rowsOut: 15000, rowsRejected: 0 });
    expect(calls.map(({ thread, rows }) => [thread === copy ? 'copy' : 'own', rows])).toEqual([
      ['own', 5000],
      ['own', 5000],
      ['own', 2048],
      ['copy', 2952],
    ]);
    const one = await loadModel(job.model.path, { threads: 1 });
    onTestFinished(() => one.close());
    expect(values).toEqual(await oneThreadValues(one, 15000, plan.fetch));
  });
});

// A FIFO that a shell writes `text` (printf format) into and then holds open until the test ends, and a job
// over it with the regressor (`extra`: more job keys).
async function heldStream(text: string, extra: string) {
  const d = tempDir();
  const fifo = makeFifo(path.join(d, 'in.csv'));
  const source = spawn('sh', ['-c', `exec > "$1"; printf '${text}'; exec sleep 600`, 'sh', fifo], { stdio: 'ignore' });
  onTestFinished(() => void source.kill());
  const job = parseJob(`model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: out.csv\n${extra}`, path.join(d, 'job.yaml'));
  const m = await loadModel(job.model.path);
  return { fifo, source, job, m, plan: planRun(job, m) };
}

describe('a stream', () => {
  it("writes a chunk's rows as soon as they are scored, without waiting for the next chunk (a stream whose writer holds it open)", async () => {
    // A header and two chunks of two rows, then nothing more.
    const { fifo, source, job, m, plan } = await heldStream('x1,x2\\n1,2\\n3,4\\n5,6\\n7,8\\n', 'batch_size: 2\n');
    let written = 0;
    let both: () => void = () => undefined;
    const twoWritten = new Promise<void>((resolve) => (both = resolve));
    const writer: TableWriter = {
      ...countingWriter(0),
      write: async (chunk) => {
        written += chunk.rows;
        if (written === 4) both();
      },
      get rows() {
        return written;
      },
    };
    const scoring = scoreInput(fifo, 'in.csv', 'csv', { job, plan, model: m, runSpec: { fetch: plan.fetch }, writer, rejects: rejectsSink(undefined, ',') });
    await twoWritten;
    // Both chunks were written while the stream was still open; closing it ends the input.
    expect(source.exitCode).toBeNull();
    source.kill();
    expect(await scoring).toMatchObject({ rowsIn: 4, rowsOut: 4, rowsRejected: 0 });
    await m.close();
  });
});

describe('a count of rejects over errors.max_rejected', () => {
  it('fails the input once the chunk that went over is finished, without waiting for the next one (a stream whose writer holds it open)', async () => {
    // A header and a row that is rejected, then nothing more.
    const { fifo, source: writer, job, m, plan } = await heldStream('x1,x2\\n1,a\\n', 'batch_size: 1\nerrors: { max_rejected: 0 }\n');
    const err = await scoreInput(fifo, 'in.csv', 'csv', { job, plan, model: m, runSpec: { fetch: plan.fetch }, writer: countingWriter(0), rejects: rejectsSink(undefined, ',') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputFailure);
    expect(((err as InputFailure).error as SbError).code).toBe('REJECT_LIMIT');
    expect((err as InputFailure).counts).toMatchObject({ rowsIn: 1, rowsOut: 0, rowsRejected: 1 });
    expect(writer.exitCode).toBeNull();
    await m.close();
  });
});

describe('unreconciled (the run record)', () => {
  const input = (rows_in: number, rows_out: number, rows_rejected: number): InputRecord => ({
    path: '/in/a.csv',
    bytes: 1,
    sha256: null,
    rows_in,
    rows_out,
    rows_rejected,
    output: null,
    rejects: null,
    status: 'ok',
    error: null,
    duration_ms: 0,
  });

  it('is silent when every input and the totals reconcile', () => {
    expect(unreconciled([input(5, 3, 2), input(0, 0, 0)])).toBeUndefined();
  });

  it('names the first input that does not', () => {
    expect(unreconciled([input(5, 3, 2), input(4, 4, 1)])).toBe('counts do not reconcile for /in/a.csv: 4 rows in, 4 out, 1 rejected');
  });

  it('checks the totals too', () => {
    const inputs = [input(5, 3, 2)];
    expect(unreconciled(inputs, { ...totals(inputs), rows_out: 4 })).toBe("the run's counts do not reconcile: 5 rows in, 4 out, 2 rejected");
  });
});
