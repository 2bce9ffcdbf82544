// The reader thread started ahead of time: the run that opens a large input takes it; one that stopped is
// replaced; one nobody took is dropped without keeping the process alive; what it reads is what this thread
// reads.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareHere, prepareInWorker, type PrepareSpec, type PreparedChunk } from '../../src/pipeline/prepare.js';
import { dropWarmReaderThread, takeReaderThread, warmReaderThread } from '../../src/pipeline/reader-thread.js';
import { cli, tempDir, writeFiles } from '../support/cli.js';

const taken: Worker[] = [];
const take = () => {
  const w = takeReaderThread();
  taken.push(w);
  return w;
};
afterEach(async () => {
  await dropWarmReaderThread();
  await Promise.all(taken.splice(0).map((w) => w.terminate()));
});

const exited = (w: Worker) => new Promise<void>((resolve) => w.once('exit', () => resolve()));

describe('warm reader thread', () => {
  it('is the thread the next input takes; the one after gets a new thread', () => {
    const w = warmReaderThread();
    expect(warmReaderThread()).toBe(w); // warming twice keeps one
    expect(take()).toBe(w);
    expect(take()).not.toBe(w);
  });

  it('is replaced when it stopped before anyone took it', async () => {
    const w = warmReaderThread();
    const gone = exited(w);
    await w.terminate();
    await gone;
    expect(take()).not.toBe(w);
  });

  it('is not handed out once it reported an error, even before its exit event', () => {
    const w = warmReaderThread();
    w.emit('error', new Error('could not start')); // what Node emits a turn before 'exit'
    const next = take();
    expect(next).not.toBe(w);
    taken.push(w);
  });

  it('is stopped by dropWarmReaderThread when no input took it', async () => {
    const w = warmReaderThread();
    const gone = exited(w);
    await dropWarmReaderThread();
    await gone;
    expect(take()).not.toBe(w);
  });

  it('reads an input into the same chunks as this thread does', async () => {
    const d = tempDir();
    const file = path.join(d, 'in.csv');
    const rows = Array.from({ length: 2500 }, (_, i) => `id${i},${(i % 97) / 8},${i % 3 === 0 ? '' : -i / 1000}`);
    writeFileSync(file, `id,a,b\n${rows.join('\n')}\nid-bad,x,1\n`);
    const spec: PrepareSpec = {
      file,
      display: 'in.csv',
      format: 'csv',
      csv: { delimiter: ',', quote: '"', header: true, encoding: 'utf8', relaxQuotes: false, fastPath: true },
      plan: {
        needs: [
          { name: 'id', number: false, text: true },
          { name: 'a', number: true, text: false },
          { name: 'b', number: true, text: false },
        ],
        tensors: [{ input: 'input', type: 'float32', columns: [{ name: 'a', missing: { kind: 'reject' } }, { name: 'b', missing: { kind: 'fill', value: 0 } }], rank: 2 }],
        passthrough: ['id'],
      },
      batchSize: 1000,
    };
    const collect = async (chunks: AsyncIterable<PreparedChunk>) => {
      const out: unknown[] = [];
      for await (const c of chunks) out.push({ rows: c.rows, rowsIn: c.rowsIn, feeds: c.feeds.map((f) => Array.from(f.data as Float32Array)), rejects: c.rejects, passthrough: c.passthrough.map((p) => [Buffer.from(p.bytes).toString(), Array.from(p.offsets)]) });
      return out;
    };
    warmReaderThread();
    const inThread = prepareInWorker(spec);
    const threaded = await collect(inThread.chunks);
    const here = await collect(prepareHere(spec).chunks);
    expect(threaded).toHaveLength(3);
    expect(threaded).toEqual(here);
    expect(inThread.end().sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('serve-batch run with a large input', () => {
  it('a run that fails before reading (missing model) exits 2 with its message: the warm thread nobody took does not hold the process', () => {
    const d = tempDir();
    const line = '0.125,-1.5\n';
    writeFiles(d, {
      'in.csv': `x1,x2\n${line.repeat(Math.ceil((9 * 1024 * 1024) / line.length))}`,
      'job.yaml': 'model: missing.onnx\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: out.csv\n',
    });
    const r = cli(['run', path.join(d, 'job.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/model file not found: .*missing\.onnx/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
