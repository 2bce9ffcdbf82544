// A generated Parquet file for tests of several readers: row groups of the sizes asked for, and columns of
// several types with nulls where a job reads them — id (string), a (double: nulls, NaN), b (int32: nulls),
// c (int64), flag (boolean: nulls), ts (timestamp: nulls), note (string: nulls) — and, when `padding` is set,
// three columns of random doubles that no job reads, so the file reaches a size (8 bytes a row each).
import { parquetWriteBuffer } from 'hyparquet-writer';

/** The rows (0-based) where a numeric column holds a null (or a NaN, in a): missing under `missing: reject`. */
const MISSING_AT = {
  a: (i: number) => i % 97 === 5 || i % 89 === 3,
  b: (i: number) => i % 101 === 7,
  flag: (i: number) => i % 53 === 11,
};

// Whether row i (0-based) is rejected by a job that reads `features` under `missing: reject`.
export function rejectedRow(i: number, features: (keyof typeof MISSING_AT)[] = ['a', 'b', 'flag']): boolean {
  return features.some((f) => MISSING_AT[f](i));
}

// `rows` rows in row groups of `groups` rows (the last size repeats), deterministic for a seed.
export function mixedParquet(rows: number, groups: number | number[], o: { seed?: number; padding?: boolean } = {}): Buffer {
  // mulberry32: uniform numbers in [0, 1).
  let s = o.seed ?? 7;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const col = <T>(f: (i: number) => T) => Array.from({ length: rows }, (_, i) => f(i));
  const columnData: Parameters<typeof parquetWriteBuffer>[0]['columnData'] = [
    { name: 'id', data: col((i) => `r${i}`), type: 'STRING' },
    { name: 'a', data: col((i) => (i % 97 === 5 ? null : i % 89 === 3 ? NaN : Math.round(next() * 2e6) / 1e3 - 1000)), type: 'DOUBLE' },
    { name: 'b', data: col((i) => (MISSING_AT.b(i) ? null : ((i * 7) % 1000) - 500)), type: 'INT32' },
    { name: 'c', data: col((i) => BigInt(i) * 1000003n - 5000000n), type: 'INT64' },
    { name: 'flag', data: col((i) => (MISSING_AT.flag(i) ? null : i % 3 === 0)), type: 'BOOLEAN' },
    { name: 'ts', data: col((i) => (i % 61 === 2 ? null : new Date(Date.UTC(2026, 0, 1) + i * 60_000))), type: 'TIMESTAMP' },
    { name: 'note', data: col((i) => (i % 13 === 4 ? null : `n${i % 17}`)), type: 'STRING' },
  ];
  if (o.padding) for (const name of ['x', 'y', 'z']) columnData.push({ name, data: Float64Array.from({ length: rows }, next), type: 'DOUBLE' });
  return Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize: groups }));
}
