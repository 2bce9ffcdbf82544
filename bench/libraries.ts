// Why CSV reading, result writing and number formatting have hand-written fast paths: the libraries alone
// against those paths, on the bench's own data, one thread each.
//
// - reading: csv-parse alone (records of strings, nothing else) and serve-batch's reference reader (csv-parse +
//   featurize) against the fast reader (bytes → float32 tensors), all over the same file;
// - writing: 1M four-column result rows (id, label, two probabilities) through the reference writer
//   (csv-stringify) and through the byte writer;
// - formatting one float: `toPrecision` (the reference meaning) against floatDigits.
// Each fast path is proven equal to its reference by the test suite; only speed is measured here.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import type { ByteSink } from '../src/storage/sink.js';
import { csvWriter } from '../src/io/csv-writer.js';
import { formatFloat, formatFloatReference } from '../src/io/format.js';
import type { ResultChunk } from '../src/table/result.js';
import { packTexts } from '../src/table/packed.js';
import { prepareHere } from '../src/pipeline/prepare.js';
import { FEATURES } from './data.js';
import { cpuOf } from './measure.js';
import { uniform } from './random.js';

export interface LibraryFigures {
  csvParseAlone: number;
  readerReference: number;
  writerReference: number;
  writerFast: number;
  /** nanoseconds per value */
  toPrecisionNs: number;
  floatDigitsNs: number;
}

/** Parse + featurize one CSV of the bench's shape (id, f0..f29) in this thread; `fast: false` = csv-parse. */
export async function readAll(file: string, fast: boolean, onChunk?: (feed: Float32Array) => void): Promise<{ wall: number; cpu: number }> {
  const needs = [{ name: 'id', number: false, text: true }, ...Array.from({ length: FEATURES }, (_, i) => ({ name: `f${i}`, number: true, text: false }))];
  const tensors = [{ input: 'input', type: 'float32' as const, columns: needs.slice(1).map((n) => ({ name: n.name, missing: { kind: 'reject' as const } })), rank: 2 as const }];
  const m = await cpuOf(async () => {
    const p = prepareHere({ file, display: file, format: 'csv', csv: { delimiter: ',', quote: '"', header: true, encoding: 'utf8', relaxQuotes: false, fastPath: fast }, plan: { needs, tensors, passthrough: ['id'] }, batchSize: 8192 });
    for await (const c of p.chunks) onChunk?.(c.feeds[0].data as Float32Array);
  });
  return { wall: m.wall, cpu: m.cpu };
}

// csv-parse's stream API as its documentation shows it ('readable' + read()), counting records.
async function csvParseAlone(file: string): Promise<number> {
  const m = await cpuOf(
    () =>
      new Promise<number>((resolve, reject) => {
        let records = 0;
        const parser = parse();
        parser.on('readable', () => {
          while (parser.read() !== null) records++;
        });
        parser.on('error', reject);
        parser.on('end', () => resolve(records));
        createReadStream(file).pipe(parser);
      }),
  );
  return m.wall;
}

// Result chunks of 8192 rows shaped like a classifier's: id text, int64 label, float32 probabilities [N, 2].
function resultChunks(rows: number): ResultChunk[] {
  const rnd = uniform(7);
  const chunks: ResultChunk[] = [];
  for (let done = 0; done < rows; done += 8192) {
    const n = Math.min(8192, rows - done);
    const ids = Array.from({ length: n }, (_, i) => `id${done + i}`);
    const label = new BigInt64Array(n);
    const p = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      p[2 * i] = rnd();
      p[2 * i + 1] = 1 - p[2 * i];
      label[i] = p[2 * i] > 0.5 ? 0n : 1n;
    }
    chunks.push({
      rows: n,
      columns: [
        { name: 'id', kind: 'packed', values: packTexts(ids) }, // passthrough as a run carries it
        { name: 'label', kind: 'int', values: label, stride: 1, offset: 0 },
        { name: 'probabilities_0', kind: 'float', values: p, stride: 2, offset: 0 },
        { name: 'probabilities_1', kind: 'float', values: p, stride: 2, offset: 1 },
      ],
    });
  }
  return chunks;
}

// A sink that keeps nothing: the writers' own cost, without the disk.
function nullSink(): ByteSink {
  let bytes = 0;
  return {
    target: 'null',
    streamed: false,
    async write(d) {
      bytes += d.length;
    },
    async commit() {},
    async abort() {},
    async mark() {
      return bytes;
    },
    async rollback() {
      return false;
    },
  };
}

async function writeAll(chunks: ResultChunk[], fast: boolean): Promise<number> {
  const m = await cpuOf(async () => {
    const w = csvWriter(nullSink(), { delimiter: ',', floatPrecision: 6, names: () => chunks[0].columns.map((c) => c.name), fast });
    for (const c of chunks) await w.write(c);
    await w.commit();
  });
  return m.wall;
}

function perValue(format: (x: number, p: number) => string, values: Float32Array): number {
  let keep = 0;
  const t0 = performance.now();
  for (let i = 0; i < values.length; i++) keep += format(values[i], 6).length;
  const ns = ((performance.now() - t0) * 1e6) / values.length;
  if (keep === 0) throw new Error('nothing formatted');
  return ns;
}

export async function measureLibraries(file: string, rows: number): Promise<LibraryFigures> {
  const csvParse = await csvParseAlone(file);
  const reference = await readAll(file, false);
  const chunks = resultChunks(rows);
  const writerReference = await writeAll(chunks, false);
  const writerFast = await writeAll(chunks, true);
  const rnd = uniform(11);
  const values = Float32Array.from({ length: 1_000_000 }, () => rnd() * 10 - 5);
  perValue(formatFloat, values.subarray(0, 100_000)); // warm up both
  perValue(formatFloatReference, values.subarray(0, 100_000));
  return {
    csvParseAlone: csvParse,
    readerReference: reference.wall,
    writerReference,
    writerFast,
    toPrecisionNs: perValue(formatFloatReference, values),
    floatDigitsNs: perValue(formatFloat, values),
  };
}
