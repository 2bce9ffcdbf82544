import { describe, expect, it } from 'vitest';
import { delimiterOf, formatOf, formatProblem, isGzipName } from '../../src/io/formats.js';

describe('formats by name', () => {
  it('knows each format by its extensions, with .gz on text formats', () => {
    const cases: [string, string | undefined][] = [
      ['a.csv', 'csv'],
      ['a.CSV', 'csv'],
      ['a.tsv', 'tsv'],
      ['a.tab', 'tsv'],
      ['a.jsonl', 'jsonl'],
      ['a.ndjson', 'jsonl'],
      ['a.parquet', 'parquet'],
      ['a.pq', 'parquet'],
      ['a.csv.gz', 'csv'],
      ['a.tsv.gz', 'tsv'],
      ['a.jsonl.gz', 'jsonl'],
      ['a.ndjson.GZ', 'jsonl'],
      ['a.csv.gzip', 'csv'],
      ['dir.v2/a.jsonl', 'jsonl'],
      ['a.parquet.gz', undefined],
      ['a.txt', undefined],
      ['a.gz', undefined],
      ['a', undefined],
    ];
    for (const [name, format] of cases) expect([name, formatOf(name)]).toEqual([name, format]);
  });

  it('says why a gzipped Parquet file is refused', () => {
    expect(formatProblem('a.parquet.gz')).toMatch(/^a gzipped Parquet file cannot be read or written/);
    expect(formatProblem('a.csv.gz')).toBeUndefined();
  });

  it('tells gzip names and delimiters', () => {
    expect(isGzipName('a.csv.gz')).toBe(true);
    expect(isGzipName('a.csv')).toBe(false);
    expect(delimiterOf('tsv')).toBe('\t');
    expect(delimiterOf('csv')).toBe(',');
  });
});
