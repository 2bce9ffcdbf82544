// The same job over CSV, JSON Lines, Parquet and gzipped inputs; results in every format; bad lines and
// broken files — through main() in this process; standard input and output through the spawned CLI.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { BIN, csvRows, expectOneLineError, listFiles, model, runMain, tempDir, writeFiles } from '../support/cli.js';
import { FLIGHTS } from '../support/flights.js';

// Rows of a small table (id, a, b, c) with a missing value and ids that only survive as text.
const ROWS: [string, number | null, number, number][] = [
  ['007', 1.5, 0.25, 2],
  ['k,2', -0.5, 1.75, 0.125],
  ['12345678901234567890', 0, -3, -1.5],
  ['x', null, 0.5, 4],
  ['y', 2.25, 1e-3, 0],
];

const csvText = () => `id,a,b,c\n${ROWS.map(([id, a, b, c]) => `${id.includes(',') ? `"${id}"` : id},${a ?? ''},${b},${c}`).join('\n')}\n`;
const jsonlText = () => `${ROWS.map(([id, a, b, c]) => JSON.stringify({ id, a, b, c })).join('\n')}\n`;
const parquetBytes = () =>
  Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ROWS.map((r) => r[0]), type: 'STRING' },
        { name: 'a', data: ROWS.map((r) => r[1]), type: 'DOUBLE' },
        { name: 'b', data: ROWS.map((r) => r[2]), type: 'DOUBLE' },
        { name: 'c', data: ROWS.map((r) => r[3]), type: 'DOUBLE' },
      ],
    }),
  );

const job = (input: string, output: string, extra = '') =>
  `model: ${model('linear_binary')}\ninput: ${input}\nfeatures: { columns: [a, b, c], missing: nan }\npassthrough: [id]\noutput: ${output}\nstate_dir: state\n${extra}`;

// Spawn the CLI with binary stdin/stdout.
function run(args: string[], o: { cwd: string; input?: Buffer }) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: o.cwd, input: o.input, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

const parquetRows = async (bytes: Buffer) => (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer })) as Record<string, unknown>[];

describe('formats: the same predictions from every input format', () => {
  it('CSV, JSON Lines, Parquet, CSV.gz and JSONL.gz inputs give identical results', async () => {
    const d = tempDir();
    writeFiles(d, {
      'in/t.csv': csvText(),
      'in/t.jsonl': jsonlText(),
      'in/t.parquet': parquetBytes(),
      'in/t.csv.gz': gzipSync(csvText()),
      'in/t.jsonl.gz': gzipSync(jsonlText()),
      'job.yaml': job('in/t.csv', 'out/{input_name}.csv'),
    });
    const outputs: string[] = [];
    for (const name of ['t.csv', 't.jsonl', 't.parquet', 't.csv.gz', 't.jsonl.gz']) {
      const r = await runMain(['run', path.join(d, 'job.yaml'), '--input', path.join(d, 'in', name), '--log-format', 'text'], { cwd: d });
      expect(r.status, r.stderr).toBe(0);
      outputs.push(readFileSync(path.join(d, 'out', `${name}.csv`), 'utf8'));
    }
    const rows = csvRows(outputs[0]);
    expect(rows[0]).toEqual(['id', 'label', 'probabilities_0', 'probabilities_1']);
    expect(rows.slice(1).map((r) => r[0])).toEqual(ROWS.map((r) => r[0]));
    expect(rows[4][2]).toBe(''); // a missing `a` under missing: nan gives NaN, written empty
    for (const o of outputs.slice(1)) expect(o).toBe(outputs[0]);
  });

  it('reads a directory of mixed formats into one combined result, in input order', async () => {
    const d = tempDir();
    writeFiles(d, { 'in/a.csv': csvText(), 'in/b.jsonl.gz': gzipSync(jsonlText()), 'in/c.parquet': parquetBytes(), 'job.yaml': job('in', 'out/all.csv') });
    const r = await runMain(['run', path.join(d, 'job.yaml')], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    const ids = csvRows(readFileSync(path.join(d, 'out/all.csv'), 'utf8')).slice(1).map((x) => x[0]);
    expect(ids).toEqual([...ROWS, ...ROWS, ...ROWS].map((x) => x[0]));
  });
});

describe('formats: results', () => {
  it('CSV in, Parquet out: typed columns that read back as the CSV result', async () => {
    const d = tempDir();
    writeFiles(d, { 'in.csv': csvText(), 'job.yaml': job('in.csv', 'out/{input_stem}.parquet') });
    expect((await runMain(['run', path.join(d, 'job.yaml')], { cwd: d })).status).toBe(0);
    expect((await runMain(['run', path.join(d, 'job.yaml'), '--output', path.join(d, 'out/in.csv')], { cwd: d })).status).toBe(0);
    const bytes = readFileSync(path.join(d, 'out/in.parquet'));
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
    expect(meta.schema.slice(1).map((s) => [s.name, s.type])).toEqual([
      ['id', 'BYTE_ARRAY'],
      ['label', 'INT64'],
      ['probabilities_0', 'FLOAT'],
      ['probabilities_1', 'FLOAT'],
    ]);
    const rows = await parquetRows(bytes);
    const csv = csvRows(readFileSync(path.join(d, 'out/in.csv'), 'utf8')).slice(1);
    rows.forEach((row, i) => {
      expect(row.id).toBe(csv[i][0]);
      expect(String(row.label)).toBe(csv[i][1]);
      const p = row.probabilities_1 as number;
      if (csv[i][3] === '') expect(p).toBeNaN();
      else expect(Number(p.toPrecision(6))).toBe(Number(csv[i][3]));
    });
  });

  it('JSON Lines out: one object per row, ids as strings, NaN as null; .gz names gzip the result', async () => {
    const d = tempDir();
    writeFiles(d, { 'in.jsonl': jsonlText(), 'job.yaml': job('in.jsonl', 'out/{input_stem}.jsonl.gz') });
    expect((await runMain(['run', path.join(d, 'job.yaml')], { cwd: d })).status).toBe(0);
    const lines = gunzipSync(readFileSync(path.join(d, 'out/in.jsonl.gz'))).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(ROWS.map((r) => r[0]));
    expect(lines[3]).toEqual({ id: 'x', label: expect.any(Number), probabilities_0: null, probabilities_1: null });
    expect(Object.keys(lines[0])).toEqual(['id', 'label', 'probabilities_0', 'probabilities_1']);
  });

  it('a combined gzip result keeps the inputs that completed when another fails', async () => {
    const d = tempDir();
    const bad = gzipSync(csvText()).subarray(0, 30);
    writeFiles(d, { 'in/a.csv': csvText(), 'in/b.csv.gz': bad, 'in/c.csv': csvText(), 'job.yaml': job('in', 'out/all.csv.gz') });
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('b.csv.gz: the gzip data ends early: the file is truncated');
    const ids = csvRows(gunzipSync(readFileSync(path.join(d, 'out/all.csv.gz'))).toString()).slice(1).map((x) => x[0]);
    expect(ids).toEqual([...ROWS, ...ROWS].map((x) => x[0]));
  });

  it('flights-3m.parquet (a real Polars file) scores with --limit', async () => {
    const d = tempDir();
    writeFiles(d, {
      'job.yaml': `model: ${model('regressor')}\ninput: ${FLIGHTS}\nfeatures: { columns: [delay, distance], missing: nan }\npassthrough: [date, origin]\noutput: out/{input_stem}.parquet\nstate_dir: state\n`,
    });
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--limit', '5000', '--json'], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout);
    expect(record.inputs[0]).toMatchObject({ rows_in: 5000, rows_out: 5000, rows_rejected: 0 });
    const rows = await parquetRows(readFileSync(path.join(d, 'out/flights-3m.parquet')));
    expect(rows).toHaveLength(5000);
    // regressor: variable = delay * 1.5 - distance * 2 + 3; the first flight: delay 33, distance 2176.
    expect(rows[0]).toEqual({ date: '2001-01-01T00:01:00', origin: 'LAS', variable: 33 * 1.5 - 2176 * 2 + 3 });
  });
});

describe('formats: standard input and output', () => {
  it('stdin and stdout with --input-format and --format; logs only on stderr', async () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': job('in.csv', 'out.csv') });
    const base = ['run', path.join(d, 'job.yaml'), '--input', '-', '--output', '-', '--log-format', 'json'];
    const csv = run([...base, '--format', 'csv'], { cwd: d, input: Buffer.from(csvText()) });
    expect(csv.status, csv.stderr).toBe(0);
    const fromJsonl = run([...base, '--input-format', 'jsonl', '--format', 'csv'], { cwd: d, input: gzipSync(jsonlText()) });
    expect(fromJsonl.stdout.toString()).toBe(csv.stdout.toString());
    const fromParquet = run([...base, '--input-format', 'parquet', '--format', 'jsonl'], { cwd: d, input: parquetBytes() });
    expect(fromParquet.status, fromParquet.stderr).toBe(0);
    expect(fromParquet.stdout.toString().trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(ROWS.map((r) => r[0]));
    const toParquet = run([...base, '--format', 'parquet'], { cwd: d, input: Buffer.from(csvText()) });
    expect((await parquetRows(toParquet.stdout)).map((row) => row.id)).toEqual(ROWS.map((r) => r[0]));
    for (const r of [csv, fromJsonl, fromParquet, toParquet]) {
      for (const line of r.stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(listFiles(d).filter((f) => !f.startsWith('state/'))).toEqual(['job.yaml']);
  });
});

describe('formats: init from a JSON Lines or Parquet sample', () => {
  it('maps the sample\'s columns and writes a job that runs', async () => {
    const d = tempDir();
    writeFiles(d, { 'data/t.parquet': parquetBytes(), 'data/t.jsonl': jsonlText() });
    for (const sample of ['data/t.parquet', 'data/t.jsonl']) {
      const jobFile = `${path.basename(sample)}.yaml`;
      const init = await runMain(['init', '--model', model('linear_binary'), '--input', sample, '-o', jobFile, '--log-format', 'text'], { cwd: d });
      expect(init.status, init.stderr).toBe(0);
      const yaml = readFileSync(path.join(d, jobFile), 'utf8');
      expect(yaml).toMatch(/columns: \[a, b, c\]/);
      const r = await runMain(['run', jobFile, '--output', `out/${path.basename(sample)}.csv`], { cwd: d });
      expect(r.status, r.stderr).toBe(0);
    }
    expect(readFileSync(path.join(d, 'out/t.parquet.csv'), 'utf8')).toBe(readFileSync(path.join(d, 'out/t.jsonl.csv'), 'utf8'));
  });
});

describe('formats: bad data and broken files', () => {
  it('rejects JSON Lines that are not objects or not JSON, with their line numbers', async () => {
    const d = tempDir();
    const lines = jsonlText().trim().split('\n');
    lines.splice(1, 0, '["not", "an", "object"]', '');
    lines.splice(4, 0, '{"id": "z", "a": 1,');
    writeFiles(d, { 'in.jsonl': `${lines.join('\n')}\n`, 'job.yaml': job('in.jsonl', 'out.csv', "errors: { max_rejected: 2, rejects: 'rejects.csv' }\n") });
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--json'], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).inputs[0]).toMatchObject({ rows_in: 7, rows_out: 5, rows_rejected: 2 });
    const rejects = csvRows(readFileSync(path.join(d, 'rejects.csv'), 'utf8'));
    expect(rejects.map((x) => x.slice(1, 3))).toEqual([
      ['_line', '_error'],
      ['2', 'the line is an array, not a JSON object'],
      ['5', 'not valid JSON: expected a property name in double quotes, got end of line at character 20'],
    ]);
  });

  it('above max_rejected the input fails in one line naming the line, and writes no result', async () => {
    const d = tempDir();
    writeFiles(d, { 'in.jsonl': '{"id": "a", "a": 1, "b": 2, "c": 3}\nnot json\n', 'job.yaml': job('in.jsonl', 'out/r.csv') });
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(r.status).toBe(1);
    expect(expectOneLineError(r.stderr).join('\n')).toMatch(/in\.jsonl:2: not valid JSON: expected a value, got 'n' at character 1/);
    expect(existsSync(path.join(d, 'out/r.csv'))).toBe(false);
  });

  for (const [name, bytes, message] of [
    ['corrupt gzip', () => Buffer.concat([gzipSync(csvText()).subarray(0, 12), Buffer.alloc(40, 0x55)]), /t\.csv\.gz: the gzip data is corrupt \(/],
    ['a .gz that is not gzip', () => Buffer.from(csvText()), /t\.csv\.gz: the name ends in \.gz but the file is not gzip data/],
  ] as const) {
    it(`${name} → one line, exit 1, no partial output`, async () => {
      const d = tempDir();
      writeFiles(d, { 'in/t.csv.gz': bytes(), 'job.yaml': job('in/t.csv.gz', 'out/{input_stem}.csv') });
      const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
      expect(r.status).toBe(1);
      expect(expectOneLineError(r.stderr).some((l) => message.test(l)), r.stderr).toBe(true);
      expect(listFiles(d).filter((f) => f.startsWith('out'))).toEqual([]);
    });
  }

  for (const [name, bytes, message] of [
    ['truncated Parquet', () => parquetBytes().subarray(0, 200), /t\.parquet: not a (valid )?Parquet file/],
    ['CSV named .parquet', () => Buffer.from(csvText()), /t\.parquet: not a Parquet file: it does not start with PAR1/],
    ['Parquet with a broken page', () => {
      const b = Buffer.from(parquetBytes());
      b.fill(0xff, 4, 60);
      return b;
    }, /t\.parquet: cannot (decode column|read the Parquet file)/],
  ] as const) {
    it(`${name} → one line, exit 1, no partial output`, async () => {
      const d = tempDir();
      writeFiles(d, { 'in/t.parquet': bytes(), 'job.yaml': job('in/t.parquet', 'out/{input_stem}.csv') });
      const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
      expect(r.status).toBe(1);
      expect(expectOneLineError(r.stderr).some((l) => message.test(l)), r.stderr).toBe(true);
      expect(listFiles(d).filter((f) => f.startsWith('out'))).toEqual([]);
    });
  }

  it('a gzipped Parquet input or output, and an unknown extension → exit 2 before reading', async () => {
    const d = tempDir();
    writeFiles(d, { 'in/t.parquet.gz': gzipSync(parquetBytes()), 'in/t.csv': csvText(), 'in/t.dat': csvText() });
    const cases: [string, string, RegExp][] = [
      ['in/t.parquet.gz', 'out/x.csv', /a gzipped Parquet file cannot be read or written/],
      ['in/t.csv', 'out/x.parquet.gz', /a gzipped Parquet file cannot be read or written/],
      ['in/t.dat', 'out/x.csv', /cannot tell the format of .*t\.dat from its name: set input\.format \(csv, tsv, jsonl or parquet\)/],
    ];
    for (const [input, output, message] of cases) {
      writeFileSync(path.join(d, 'job.yaml'), job(input, output));
      const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
      expect(r.status, r.stderr).toBe(2);
      expect(expectOneLineError(r.stderr).some((l) => message.test(l)), r.stderr).toBe(true);
    }
    expect(existsSync(path.join(d, 'out'))).toBe(false);
  });

  it('input.format overrides the extension', async () => {
    const d = tempDir();
    writeFiles(d, { 'in/t.dat': jsonlText(), 'job.yaml': job('{ path: in/t.dat, format: jsonl }', 'out/{input_stem}.csv') });
    const r = await runMain(['run', path.join(d, 'job.yaml')], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    expect(csvRows(readFileSync(path.join(d, 'out/t.csv'), 'utf8'))).toHaveLength(ROWS.length + 1);
  });
});
