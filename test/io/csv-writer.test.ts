// The bulk CSV writer gives the same bytes as csv-stringify (the reference path).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ByteSink } from '../../src/storage/sink.js';
import { csvWriter } from '../../src/io/csv-writer.js';
import type { ResultChunk, ResultColumn } from '../../src/table/result.js';
import { packTexts } from '../../src/table/packed.js';

function memorySink(): ByteSink & { text: () => string } {
  const parts: string[] = [];
  return {
    target: 'memory',
    streamed: false,
    write: async (d) => {
      parts.push(typeof d === 'string' ? d : Buffer.from(d).toString());
    },
    commit: async () => undefined,
    abort: async () => undefined,
    mark: async () => 0,
    rollback: async () => false,
    text: () => parts.join(''),
  };
}

async function write(chunks: ResultChunk[], delimiter: string, fast: boolean): Promise<string> {
  const sink = memorySink();
  const w = csvWriter(sink, { delimiter, floatPrecision: 6, names: () => ['x'], fast });
  for (const c of chunks) await w.write(c);
  await w.commit();
  return sink.text();
}

const rows = 5;
const text = fc.array(fc.oneof(fc.string(), fc.constantFrom('', ',', '"', 'a"b', '\r', '\n', '\r\n', ' x ', '\t', ';', '|', 'é日本')), { minLength: rows, maxLength: rows });
const column: fc.Arbitrary<ResultColumn> = fc.oneof(
  text.map((values): ResultColumn => ({ name: 'txt', kind: 'text', values })),
  text.map((values): ResultColumn => ({ name: 'packed', kind: 'packed', values: packTexts(values) })),
  fc.array(fc.double(), { minLength: rows * 2, maxLength: rows * 2 }).map((v): ResultColumn => ({ name: 'f64', kind: 'float', values: Float64Array.from(v), stride: 2, offset: 1 })),
  fc.array(fc.float(), { minLength: rows, maxLength: rows }).map((v): ResultColumn => ({ name: 'f32', kind: 'float', values: Float32Array.from(v), stride: 1, offset: 0 })),
  fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: rows, maxLength: rows }).map((v): ResultColumn => ({ name: 'i64', kind: 'int', values: BigInt64Array.from(v), stride: 1, offset: 0 })),
  // int64 labels as models give them: small, either side of ±2^31 and 2^32 (where a value stops fitting one
  // 32-bit word) and of ±2^53 (where the writer leaves the number path).
  fc.array(fc.oneof(fc.bigInt({ min: -1000n, max: 1000n }), fc.constantFrom(2n ** 31n - 1n, 2n ** 31n, -(2n ** 31n), -(2n ** 31n) - 1n, 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n), -1n), fc.bigInt({ min: -(2n ** 33n), max: 2n ** 33n }), fc.bigInt({ min: 2n ** 53n - 3n, max: 2n ** 53n + 3n }), fc.bigInt({ min: -(2n ** 53n) - 3n, max: -(2n ** 53n) + 3n })), { minLength: rows, maxLength: rows }).map((v): ResultColumn => ({ name: 'label', kind: 'int', values: BigInt64Array.from(v), stride: 1, offset: 0 })),
  fc.array(fc.oneof(fc.integer(), fc.constantFrom(-0, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 53, 0.5, -2.5)), { minLength: rows, maxLength: rows }).map((v): ResultColumn => ({ name: 'f64int', kind: 'int', values: Float64Array.from(v), stride: 1, offset: 0 })),
  fc.array(fc.integer(), { minLength: rows, maxLength: rows }).map((v): ResultColumn => ({ name: 'i32', kind: 'int', values: Int32Array.from(v), stride: 1, offset: 0 })),
  fc.array(fc.boolean(), { minLength: rows, maxLength: rows }).map((v): ResultColumn => ({ name: 'b', kind: 'bool', values: Uint8Array.from(v.map(Number)), stride: 1, offset: 0 })),
);

describe('csv writer', () => {
  it('writes the same bytes in bulk as through csv-stringify, for any values and delimiter', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(column, { minLength: 1, maxLength: 5 }), { maxLength: 3 }), fc.constantFrom(',', '\t', ';', '|', ' ', '^', ']', '-', '¦'), async (chunks, delimiter) => {
        const list: ResultChunk[] = chunks.map((columns) => ({ rows, columns }));
        expect(await write(list, delimiter, true)).toBe(await write(list, delimiter, false));
      }),
      { numRuns: 1500, seed: 11 },
    );
  });

  it('quotes what needs quoting and writes the header of an empty result', async () => {
    const chunk: ResultChunk = { rows: 2, columns: [{ name: 'a,b', kind: 'text', values: ['x,y', 'say "hi"'] }, { name: 'p', kind: 'float', values: Float32Array.from([0.5, NaN]), stride: 1, offset: 0 }] };
    expect(await write([chunk], ',', true)).toBe('"a,b",p\n"x,y",0.5\n"say ""hi""",\n');
    expect(await write([], ',', true)).toBe('x\n');
  });
});
