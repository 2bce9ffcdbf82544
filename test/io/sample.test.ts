import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { readSample } from '../../src/io/sample.js';
import { tempDir } from '../support/temp-dir.js';

describe('readSample: JSON Lines and Parquet samples (for init)', () => {
  it('JSON Lines: every key in the order first seen, nested ones dotted; rows as text', async () => {
    const d = tempDir();
    const text = '{"id": 7, "user": {"age": 41, "geo": {"cc": "kr"}}, "tags": [1]}\nnot json\n{"id": 8, "extra": null}\n';
    writeFileSync(path.join(d, 's.jsonl.gz'), gzipSync(text));
    const s = await readSample(path.join(d, 's.jsonl.gz'));
    expect(s.header).toEqual(['id', 'user.age', 'user.geo.cc', 'tags', 'extra']);
    expect(s.rows).toEqual([
      ['7', '41', 'kr', '[1]', ''],
      ['8', '', '', '', ''],
    ]);
  });

  it('JSON Lines: a number with a decimal point or an exponent is a value, not an object', async () => {
    const d = tempDir();
    // As Python's json.dumps writes floats.
    writeFileSync(path.join(d, 's.jsonl'), '{"a": 1.0, "b": 2, "c": {"d": 1e3, "e": 0.50}}\n{"a": 2.5, "b": 3.0, "c": {"d": -0.0, "e": 1}}\n');
    const s = await readSample(path.join(d, 's.jsonl'));
    expect(s.header).toEqual(['a', 'b', 'c.d', 'c.e']);
    expect(s.rows).toEqual([
      ['1.0', '2', '1e3', '0.50'],
      ['2.5', '3.0', '-0.0', '1'],
    ]);
  });

  it('Parquet: the flat columns, rows as text', async () => {
    const d = tempDir();
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ['a', 'b'], type: 'STRING' },
        { name: 'x', data: [1.5, null], type: 'DOUBLE' },
      ],
    });
    writeFileSync(path.join(d, 's.parquet'), Buffer.from(buf));
    expect(await readSample(path.join(d, 's.parquet'))).toEqual({ header: ['id', 'x'], rows: [['a', '1.5'], ['b', '']] });
  });
});
