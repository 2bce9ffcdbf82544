// The bad-input corpus (run by test/cli/corpus.test.ts; its CSV files also feed the fast-path differential
// test): every way an input, a model, a job file or the disk can be wrong, through the real CLI.
// Each case asserts the exit code, no stack trace, no partial output (no result of a failed input, no
// temporary file, no lock), and for a failure one line naming file:line, the column or the YAML path
// (test/support/cases.ts). csv-spectrum's files are valid CSV except location_coordinates: valid ones must
// score, their fields arriving exactly as the package's JSON says.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { CliCase } from './cases.js';
import { cliAsync, csvRows, model, ROOT, type CliResult } from './cli.js';

const SPECTRUM = path.join(ROOT, 'node_modules/csv-spectrum');
const spectrumCsv = (name: string) => readFileSync(path.join(SPECTRUM, 'csvs', `${name}.csv`));
const spectrumJson = (name: string) => JSON.parse(readFileSync(path.join(SPECTRUM, 'json', `${name}.json`), 'utf8')) as unknown;

// per_column.onnx: score = 0.5*age + 2*visits + (city: Paris 10, Berlin 20, else -1); age float, visits int64,
// city string — one text, one float and one integer input, so any file of strings can be fed to it.
type PerColumn = { city: string; age: string; visits: string };
const perColumnScore = (row: Record<string, string>, f: PerColumn) => {
  const city = row[f.city] === 'Paris' ? 10 : row[f.city] === 'Berlin' ? 20 : -1;
  const age = row[f.age] === '' ? NaN : Math.fround(Number(row[f.age]));
  return 0.5 * age + 2 * Number(row[f.visits]) + city;
};

const yamlList = (names: string[]) => `[${names.map((n) => JSON.stringify(n)).join(', ')}]`;

function perColumnJob(input: string, f: PerColumn, passthrough: string[], missing = 'reject'): string {
  return [
    `model: ${model('per_column')}`,
    `input: ${input}`,
    `features: { inputs: { city: ${JSON.stringify(f.city)}, age: ${JSON.stringify(f.age)}, visits: ${JSON.stringify(f.visits)} }, missing: ${missing} }`,
    `passthrough: ${yamlList(passthrough)}`,
    'output: out/result.csv',
    '',
  ].join('\n');
}

const regressorJob = (extra = '', input = 'in.csv') => `model: ${model('regressor')}\ninput: ${input}\nfeatures: { columns: [x1, x2] }\noutput: out/result.csv\n${extra}`;

const result = (d: string, f = 'out/result.csv') => readFileSync(path.join(d, f), 'utf8');

// Every field of every row arrives in the result as the JSON says, followed by the model's score.
function matchesJson(rows: Record<string, string>[], f: PerColumn): CliCase['check'] {
  return (d) => {
    const keys = Object.keys(rows[0]);
    const out = csvRows(result(d));
    expect(out[0]).toEqual([...keys, 'score']);
    expect(out).toHaveLength(rows.length + 1);
    rows.forEach((row, i) => {
      expect(out[i + 1].slice(0, keys.length)).toEqual(keys.map((k) => row[k]));
      const want = perColumnScore(row, f);
      const got = out[i + 1][keys.length];
      if (Number.isNaN(want)) expect(got).toBe('');
      else expect(Math.abs(Number(got) - want)).toBeLessThanOrEqual(Math.abs(want) * 1e-6);
    });
  };
}

// A valid csv-spectrum file: scored, every field passed through exactly.
function spectrumOk(name: string, f: PerColumn, o: { missing?: string; why?: string } = {}): CliCase {
  const rows = spectrumJson(name) as Record<string, string>[];
  return {
    name: `csv-spectrum ${name}: valid CSV, scored with every field as in its JSON${o.why ? ` (${o.why})` : ''}`,
    files: { [`in/${name}.csv`]: spectrumCsv(name), 'job.yaml': perColumnJob(`in/${name}.csv`, f, Object.keys(rows[0]), o.missing) },
    exit: 0,
    check: matchesJson(rows, f),
  };
}

const abc: PerColumn = { city: 'c', age: 'b', visits: 'a' };

// location_coordinates is defective: a quote inside an unquoted field, U+FFFD where a degree sign was, and
// a JSON that is an object (not a list) with another phone number than the CSV.
const location = spectrumJson('location_coordinates') as Record<string, string>;
const locationFeatures: PerColumn = { city: 'Cities', age: 'Contact Phone Number', visits: 'Contact Phone Number' };
const locationPassthrough = ['Contact Phone Number', 'Location Coordinates', 'Cities', 'Counties'];

// "Input vanishing mid-run": the first input is a FIFO, so the run waits on it deterministically; the test
// deletes the second input once the run has opened the first (its inputs are resolved by then), then feeds it.
async function vanishing(d: string, args: string[]): Promise<CliResult> {
  const fifo = path.join(d, 'in/a.csv');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const run = cliAsync(args, { cwd: d });
  const opened = open(fifo, 'w');
  const first = await Promise.race([opened.then(() => 'opened' as const), run.done.then(() => 'exited' as const)]);
  if (first === 'exited') {
    // The run ended without reading the FIFO: release our pending open and report what it said.
    closeSync(openSync(fifo, 'r+'));
    await opened.then((h) => h.close());
    return run.done;
  }
  const writer = await opened;
  rmSync(path.join(d, 'in/b.csv'));
  await writer.writeFile('x1,x2\n1,2\n');
  await writer.close();
  return run.done;
}

export const corpusCases: CliCase[] = [
  // csv-spectrum (the npm package), each file as it is.
  spectrumOk('comma_in_quotes', { city: 'city', age: 'zip', visits: 'zip' }, { why: 'a comma inside quotes; zip 08123 stays text in passthrough' }),
  spectrumOk('empty', abc, { missing: 'nan', why: 'under missing: nan, "" is a missing value: NaN age, empty city, empty score' }),
  {
    name: 'csv-spectrum empty: "" under missing: reject is a reject; above max_rejected 0 the input fails',
    files: { 'in/empty.csv': spectrumCsv('empty'), 'job.yaml': perColumnJob('in/empty.csv', abc, ['a', 'b', 'c']) },
    exit: 1,
    message: /in\/empty\.csv:2: column 'c': empty value \(features\.missing: reject\)/,
  },
  spectrumOk('empty_crlf', abc, { missing: 'nan', why: 'the same with CRLF line ends' }),
  spectrumOk('escaped_quotes', { city: 'b', age: 'a', visits: 'a' }),
  spectrumOk('json', { city: 'val', age: 'key', visits: 'key' }),
  spectrumOk('newlines', { city: 'a', age: 'b', visits: 'c' }, { why: 'a line break inside quotes' }),
  spectrumOk('newlines_crlf', { city: 'a', age: 'b', visits: 'c' }, { why: 'CRLF inside quotes is kept as CRLF' }),
  spectrumOk('quotes_and_newlines', { city: 'b', age: 'a', visits: 'a' }),
  spectrumOk('simple', { city: 'a', age: 'b', visits: 'c' }),
  spectrumOk('simple_crlf', { city: 'a', age: 'b', visits: 'c' }),
  spectrumOk('utf8', { city: 'c', age: 'a', visits: 'b' }, { why: 'ʤ passes through' }),
  {
    name: 'csv-spectrum location_coordinates (defective): its bare quote in an unquoted field is a reject, named by column',
    files: { 'in/loc.csv': spectrumCsv('location_coordinates'), 'job.yaml': perColumnJob('in/loc.csv', locationFeatures, locationPassthrough) },
    exit: 1,
    message: /in\/loc\.csv:2: column 'Location Coordinates': quote character inside an unquoted field: quote the whole field, or set input\.csv\.relax_quotes: true/,
  },
  {
    name: 'csv-spectrum location_coordinates with relax_quotes: scored, the quotes kept; its JSON disagrees on the phone number',
    files: {
      'in/loc.csv': spectrumCsv('location_coordinates'),
      'job.yaml': perColumnJob('{ path: in/loc.csv, csv: { relax_quotes: true } }', locationFeatures, locationPassthrough),
    },
    exit: 0,
    check: (d) => {
      const [header, row, ...more] = csvRows(result(d));
      expect(more).toEqual([]);
      expect(header).toEqual([...locationPassthrough, 'score']);
      expect(row.slice(1, 4)).toEqual([location['Location Coordinates'], location.Cities, location.Counties]);
      // The defect: the JSON says 1234567890, the CSV holds 2095257564.
      expect(location['Contact Phone Number']).toBe('1234567890');
      expect(row[0]).toBe('2095257564');
    },
  },

  // Encodings, line ends, quotes.
  {
    name: 'UTF-8 byte-order mark and CRLF: the first column is found by its name',
    files: { 'in.csv': '\ufeffx1,x2\r\n1,2\r\n3,4\r\n', 'job.yaml': regressorJob() },
    exit: 0,
    check: (d) => expect(result(d)).toBe('variable\n0.5\n-0.5\n'),
  },
  {
    name: 'CR-only line ends',
    files: { 'in.csv': 'x1,x2\r1,2\r3,4\r', 'job.yaml': regressorJob() },
    exit: 0,
    check: (d) => expect(result(d)).toBe('variable\n0.5\n-0.5\n'),
  },
  {
    name: '_line is the physical line after multi-line quoted fields (LF and CRLF)',
    files: {
      'in.csv': 'id,x1,x2\n"two\nlines",1,2\n"three\r\nlines\nhere",bad,2\n',
      'job.yaml': regressorJob('passthrough: [id]\nerrors: { max_rejected: 1, rejects: out/rejects.csv }\n'),
    },
    exit: 0,
    check: (d) => {
      expect(csvRows(result(d)).map((r) => r[0])).toEqual(['id', 'two\nlines']);
      expect(csvRows(result(d, 'out/rejects.csv'))).toEqual([
        ['_file', '_line', '_error', 'id', 'x1', 'x2'],
        ['in.csv', '4', "column 'x1': 'bad' is not a number", 'three\r\nlines\nhere', 'bad', '2'],
      ]);
    },
  },
  {
    name: 'a quote inside an unquoted field (12" pizza)',
    files: { 'in.csv': 'x1,x2\n1,2\n3,4"5\n', 'job.yaml': regressorJob() },
    exit: 1,
    message: /in\.csv:3: column 'x2': quote character inside an unquoted field/,
  },
  {
    name: 'text after a closing quote',
    files: { 'in.csv': 'x1,x2\n1,2\n3,"4"5\n', 'job.yaml': regressorJob() },
    exit: 1,
    message: /in\.csv:3: column 'x2': text after a closing quote: got "5" \(a quote inside a quoted field must be doubled\)/,
  },
  {
    name: 'a quote that is never closed',
    files: { 'in.csv': 'x1,x2\n1,2\n3,"4\n5,6\n', 'job.yaml': regressorJob() },
    exit: 1,
    message: /in\.csv:3: column 'x2': a quoted field opened on this line is never closed/,
  },
  {
    name: 'non-UTF-8 bytes fail the input at their line',
    files: { 'in.csv': Buffer.concat([Buffer.from('x1,x2\n1,2\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from(',2\n')]), 'job.yaml': regressorJob() },
    exit: 1,
    message: /in\.csv:3: bytes that are not valid UTF-8: set input\.csv\.encoding: latin1/,
  },
  {
    name: 'the same bytes with encoding: latin1 are read as Latin-1',
    files: {
      'in.csv': Buffer.concat([Buffer.from('id,x1,x2\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from(',1,2\n')]),
      'job.yaml': regressorJob('passthrough: [id]\n', '{ path: in.csv, csv: { encoding: latin1 } }'),
    },
    exit: 0,
    check: (d) => expect(result(d)).toBe('id,variable\ncafé,0.5\n'),
  },

  // Shapes of files.
  {
    name: 'an empty file',
    files: { 'in.csv': '', 'job.yaml': regressorJob() },
    exit: 1,
    message: /in\.csv: the input is empty: no header line/,
  },
  {
    name: 'a header and no rows: a complete, empty result',
    files: { 'in.csv': 'x1,x2\n', 'job.yaml': regressorJob() },
    exit: 0,
    check: (d) => expect(result(d)).toBe('variable\n'),
  },
  {
    name: 'a needed column twice in the header',
    files: { 'in.csv': 'x1,x2,x1\n1,2,3\n', 'job.yaml': regressorJob() },
    exit: 1,
    message: /in\.csv:1: column 'x1' appears twice in the header \(fields 1 and 3\); rename one/,
  },
  {
    name: 'a feature column missing (a near miss in case)',
    files: { 'in.csv': 'x1,X2\n1,2\n', 'job.yaml': regressorJob() },
    exit: 1,
    message: /in\.csv:1: column 'x2' is not in the header, did you mean 'X2'\?/,
  },
  {
    name: 'extra columns, in any order, are ignored',
    files: { 'in.csv': 'note,x2,extra,x1\nhi,2,z,1\n', 'job.yaml': regressorJob() },
    exit: 0,
    check: (d) => expect(result(d)).toBe('variable\n0.5\n'),
  },
  {
    name: 'a row with too few fields',
    files: { 'in.csv': 'x1,x2\n1,2\n3\n', 'job.yaml': regressorJob() },
    exit: 1,
    message: /in\.csv:3: expected 2 fields, got 1/,
  },
  {
    name: 'ragged rows above a percentage threshold: the input fails, its rejects are kept',
    files: { 'in.csv': 'x1,x2\n1,2\n3,4\n5,6,7\n8,9\n1,1\n', 'job.yaml': regressorJob("errors: { max_rejected: '10%', rejects: out/rejects.csv }\n") },
    exit: 1,
    message: /too many rejected rows: 1 of 5 rows, errors\.max_rejected is 10% = 0 rows; first: in\.csv:4: expected 2 fields, got 3; all rejects in .*out\/rejects\.csv/,
    present: ['out/rejects.csv'],
  },
  {
    name: 'rejects within a percentage threshold: the result and the rejects reconcile with rows_in',
    files: { 'in.csv': 'x1,x2\n1,2\n3,4\n5,6,7\n8,9\n1,x\n', 'job.yaml': regressorJob("errors: { max_rejected: '40%', rejects: out/rejects.csv }\n") },
    args: ['JOB', '--json'],
    exit: 0,
    check: (d, r) => {
      const rec = JSON.parse(r.stdout);
      expect(rec.inputs[0]).toMatchObject({ rows_in: 5, rows_out: 3, rows_rejected: 2 });
      expect(csvRows(result(d))).toHaveLength(1 + 3);
      expect(csvRows(result(d, 'out/rejects.csv')).map((x) => x.slice(1, 3))).toEqual([
        ['_line', '_error'],
        ['4', 'expected 2 fields, got 3'],
        ['6', "column 'x2': 'x' is not a number"],
      ]);
    },
  },
  {
    // Over the 8 MiB from which a reader thread reads the input: the field crosses its 1 MiB blocks.
    name: 'a 9 MB quoted field with line breaks passes through whole',
    files: { 'in.csv': `id,x1,x2\n"${'ab\n'.repeat(3_000_000)}",1,2\n`, 'job.yaml': regressorJob('passthrough: [id]\n') },
    exit: 0,
    check: (d) => {
      const text = result(d);
      expect(text.length).toBe('id,variable\n'.length + 9_000_000 + 2 + ',0.5\n'.length);
      expect(text.endsWith('ab\n",0.5\n')).toBe(true);
    },
  },
  {
    name: 'a line longer than 64 MiB without a line break',
    files: { 'in.csv': Buffer.concat([Buffer.from('x1,x2\n'), Buffer.alloc(65 * 1024 * 1024, 0x37)]), 'job.yaml': regressorJob() },
    exit: 1,
    message: /in\.csv:2: a line longer than 64 MiB without a line break; is this a CSV file\?/,
  },

  // Values.
  {
    name: 'a NaN literal under missing: reject',
    files: { 'in.csv': 'x1,x2\n1,NaN\n', 'job.yaml': regressorJob() },
    exit: 1,
    message: /in\.csv:2: column 'x2': missing value 'NaN' \(features\.missing: reject\)/,
  },
  {
    name: 'Inf literals are floats: inf in, inf out',
    files: { 'in.csv': 'x1,x2\ninf,0\n0,Infinity\n-inf,0\n', 'job.yaml': regressorJob() },
    exit: 0,
    check: (d) => expect(result(d)).toBe('variable\ninf\n-inf\n-inf\n'),
  },
  {
    name: 'inf for an int64 input does not fit',
    files: { 'in.csv': 'c,a,v\nParis,1,inf\n', 'job.yaml': perColumnJob('in.csv', { city: 'c', age: 'a', visits: 'v' }, []) },
    exit: 1,
    message: /in\.csv:2: column 'v': 'inf' is not a whole number \(model input is int64\)/,
  },
  {
    name: 'a fraction for an int64 input does not fit',
    files: { 'in.csv': 'c,a,v\nParis,1,2.5\n', 'job.yaml': perColumnJob('in.csv', { city: 'c', age: 'a', visits: 'v' }, []) },
    exit: 1,
    message: /in\.csv:2: column 'v': '2\.5' is not a whole number \(model input is int64\)/,
  },
  {
    name: 'a number beyond int64',
    files: { 'in.csv': 'c,a,v\nParis,1,99999999999999999999\n', 'job.yaml': perColumnJob('in.csv', { city: 'c', age: 'a', visits: 'v' }, []) },
    exit: 1,
    message: /in\.csv:2: column 'v': '99999999999999999999' is out of int64 range/,
  },

  // Models and job files: exit 2, nothing read or written.
  {
    name: 'wrong model path',
    files: { 'in.csv': 'x1,x2\n1,2\n', 'job.yaml': regressorJob().replace(model('regressor'), 'models/churn.onnx') },
    exit: 2,
    message: /model file not found: .*models\/churn\.onnx \(at model\)/,
  },
  {
    name: 'a corrupt model (a truncated real export)',
    files: { 'in.csv': 'x1,x2\n1,2\n', 'm.onnx': readFileSync(model('regressor')).subarray(0, 100), 'job.yaml': regressorJob().replace(model('regressor'), 'm.onnx') },
    exit: 2,
    message: /m\.onnx is not a valid ONNX model \(.*\); re-export it \(at model\)/,
  },
  {
    name: 'model/job mismatch: a feature count the model does not take',
    files: { 'in.csv': 'x1,x2,x3\n1,2,3\n', 'job.yaml': regressorJob().replace('[x1, x2]', '[x1, x2, x3]') },
    exit: 2,
    message: /model input 'input' takes 2 features but features\.columns lists 3 \(at features\.columns\)/,
  },
  {
    name: 'model/job mismatch: one input per column for a model with one [N, F] input',
    files: { 'in.csv': 'x1,x2\n1,2\n', 'job.yaml': regressorJob().replace('features: { columns: [x1, x2] }', 'features: { inputs: { age: x1 } }') },
    exit: 2,
    message: /\(at features\.inputs/,
  },
  {
    name: 'an unknown YAML key',
    files: { 'in.csv': 'x1,x2\n1,2\n', 'job.yaml': regressorJob().replace('input: in.csv', 'input: { path: in.csv, incremantal: true }') },
    exit: 2,
    message: /job\.yaml:2:\d+: unknown key 'incremantal', did you mean 'incremental'\? \(at input\.incremantal\)/,
  },
  {
    name: 'a YAML syntax error',
    files: { 'in.csv': 'x1,x2\n1,2\n', 'job.yaml': regressorJob().replace('[x1, x2] }', '[x1, x2 }') },
    exit: 2,
    message: /job\.yaml:3:\d+: YAML syntax error/,
  },
  {
    name: 'a YAML alias bomb (billion laughs)',
    files: {
      'in.csv': 'x1,x2\n1,2\n',
      'job.yaml': regressorJob(`passthrough: &a [x1, x1, x1, x1, x1, x1, x1, x1, x1]\n${'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`).join('\n')}\n`),
    },
    exit: 2,
    message: /^error: job\.yaml:6:\d+: YAML aliases expand to too much data .*; write the values out instead of using \*aliases$/,
  },

  // Where results go.
  {
    name: 'unwritable output directory: its parent is a file (chmod does not bind root); found before reading',
    files: { 'in.csv': 'x1,x2\n1,2\n', out: 'a file', 'job.yaml': regressorJob() },
    exit: 2,
    message: /cannot write .*out\/result\.csv: a parent of it \(.*out\) is a file, not a directory \(at output\.path\)/,
  },
  {
    name: 'unwritable result name: a directory is in the way; found before reading',
    files: { 'in.csv': 'x1,x2\n1,2\n', 'out/result.csv/keep': '', 'job.yaml': regressorJob() },
    args: ['JOB', '--json'],
    exit: 2,
    message: /cannot write .*out\/result\.csv: it is a directory: give a file name \(at output\.path\)/,
    absent: [],
    check: (_d, r) => expect(JSON.parse(r.stdout)).toMatchObject({ status: 'invalid', inputs: [], totals: { rows_in: 0 } }),
  },
  {
    name: 'unwritable state_dir: its parent is a file',
    files: { 'in.csv': 'x1,x2\n1,2\n', state: 'a file', 'job.yaml': regressorJob('state_dir: state/sb\n') },
    exit: 2,
    message: /cannot write the job's state in .*state\/sb: a parent of it is a file, not a directory \(at state_dir\)/,
  },
  {
    name: 'a result that would overwrite its input',
    files: { 'in.csv': 'x1,x2\n1,2\n', 'job.yaml': regressorJob().replace('output: out/result.csv', 'output: in.csv') },
    exit: 2,
    message: /the result for in\.csv would overwrite an input .*\(at output\.path\)/,
    check: (d) => expect(result(d, 'in.csv')).toBe('x1,x2\n1,2\n'),
  },

  // Several inputs: one failing keeps the others' results.
  {
    name: 'an input vanishing mid-run fails alone; the others are scored',
    files: { 'in/b.csv': 'x1,x2\n3,4\n', 'in/c.csv': 'x1,x2\n5,6\n', 'job.yaml': regressorJob('', '[in/a.csv, in/b.csv, in/c.csv]').replace('out/result.csv', "'out/{input_stem}.csv'") },
    run: vanishing,
    exit: 1,
    message: /in\/b\.csv: cannot read input: it disappeared before it could be read/,
    absent: ['out/b.csv'],
    present: ['out/a.csv', 'out/c.csv'],
    check: (d, r) => {
      expect(result(d, 'out/a.csv')).toBe('variable\n0.5\n');
      expect(r.stderr).toMatch(/job job: failed — 1 of 3 inputs failed/);
    },
  },
  {
    name: 'one combined result: a failing input is rolled back, the others stay',
    files: { 'in/a.csv': 'x1,x2\n1,2\n', 'in/b.csv': 'x1,x2\n3,4\nbad,1\n', 'in/c.csv': 'x1,x2\n5,6\n', 'job.yaml': regressorJob('', 'in/*.csv') },
    args: ['JOB', '--json'],
    exit: 1,
    message: /in\/b\.csv:3: column 'x1': 'bad' is not a number/,
    absent: [],
    check: (d, r) => {
      expect(result(d)).toBe('variable\n0.5\n-1.5\n');
      expect(JSON.parse(r.stdout).inputs.map((i: { status: string }) => i.status)).toEqual(['ok', 'failed', 'ok']);
    },
  },
];

