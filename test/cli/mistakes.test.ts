// User mistakes: each gives the documented exit code, a one-line message saying what and where, no stack
// trace, and no result file.
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCase, type CliCase } from '../support/cases.js';
import { cli, expectOneLineError, listFiles, model, runMain, tempDir, writeFiles } from '../support/cli.js';

type Case = CliCase & { message: RegExp };

const job = (body: string) => `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: out/result.csv\n${body}`;
const goodCsv = 'x1,x2\n1,2\n3,4\n';

const cases: Case[] = [
  { name: 'job file does not exist', files: {}, args: ['missing.yaml'], exit: 2, message: /job file not found: .*missing\.yaml/ },
  { name: 'YAML syntax error', files: { 'job.yaml': 'model: a.onnx\ninput: [in.csv\n', 'in.csv': goodCsv }, exit: 2, message: /job\.yaml:\d+:\d+: YAML syntax error/ },
  { name: 'unknown key with a did-you-mean', files: { 'job.yaml': job('').replace('input: in.csv', 'input: { path: in.csv, formt: csv }'), 'in.csv': goodCsv }, exit: 2, message: /job\.yaml:2:\d+: unknown key 'formt', did you mean 'format'\? \(at input\.formt\)/ },
  { name: 'required key missing', files: { 'job.yaml': `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\n`, 'in.csv': goodCsv }, exit: 2, message: /required key is missing \(at output\)/ },
  { name: 'unset environment variable', files: { 'job.yaml': job('').replace('in.csv', '${DATA_DIR}/in.csv'), 'in.csv': goodCsv }, exit: 2, message: /environment variable DATA_DIR is not set.*\(at input\)/ },
  { name: 'model file does not exist', files: { 'job.yaml': job('').replace(model('regressor'), 'nope.onnx'), 'in.csv': goodCsv }, exit: 2, message: /model file not found: .*nope\.onnx/ },
  { name: 'model file is not ONNX', files: { 'job.yaml': job('').replace(model('regressor'), 'bad.onnx'), 'bad.onnx': 'this is not a model', 'in.csv': goodCsv }, exit: 2, message: /bad\.onnx is not a valid ONNX model|bad\.onnx cannot be loaded/ },
  { name: 'feature count differs from the model', files: { 'job.yaml': job('').replace('[x1, x2]', '[x1, x2, x3]'), 'in.csv': 'x1,x2,x3\n1,2,3\n' }, exit: 2, message: /model input 'input' takes 2 features but features\.columns lists 3 \(at features\.columns\)/ },
  { name: 'unknown model output', files: { 'job.yaml': job('predictions: [{ output: varible }]\n'), 'in.csv': goodCsv }, exit: 2, message: /model has no output 'varible', did you mean 'variable'\?.*\(at predictions\.0\.output\)/ },
  { name: 'input file does not exist', files: { 'job.yaml': job('') }, exit: 2, message: /input not found: .*in\.csv \(at input\.path\)/ },
  { name: '--input file does not exist', files: { 'job.yaml': job(''), 'in.csv': goodCsv }, args: ['JOB', '--input', 'other.csv'], exit: 2, message: /input not found: .*other\.csv \(given by --input\)$/ },
  { name: 'profile: --input file does not exist', command: 'profile', files: { 'job.yaml': job(''), 'in.csv': goodCsv }, args: ['JOB', '-o', 'ref.json', '--input', 'other.csv'], exit: 2, absent: ['ref.json'], message: /input not found: .*other\.csv \(given by --input\)$/ },
  { name: 'feature column missing from the CSV', files: { 'job.yaml': job(''), 'in.csv': 'x1,x_2\n1,2\n' }, exit: 1, message: /in\.csv:1: column 'x2' is not in the header, did you mean 'x_2'\?/ },
  { name: 'non-numeric value with no rejects allowed', files: { 'job.yaml': job(''), 'in.csv': 'x1,x2\n1,2\n3,four\n' }, exit: 1, message: /in\.csv:3: column 'x2': 'four' is not a number/ },
  { name: 'bad --limit', files: { 'job.yaml': job(''), 'in.csv': goodCsv }, args: ['JOB', '--limit', 'ten'], exit: 2, message: /--limit <n>.*invalid/ },
  { name: 'unknown option', files: { 'job.yaml': job(''), 'in.csv': goodCsv }, args: ['JOB', '--ouput', 'x.csv'], exit: 2, message: /unknown option '--ouput'/ },
  { name: 'bad output template token', files: { 'job.yaml': job('').replace('out/result.csv', "'out/{input_stm}.csv'"), 'in.csv': goodCsv }, exit: 2, message: /unknown token \{input_stm\}, did you mean 'input_stem'\?.*\(at output\.path\)/ },
  { name: 'output directory is a file (found before reading)', files: { 'job.yaml': job(''), 'in.csv': goodCsv, out: 'not a directory' }, exit: 2, message: /cannot write .*result\.csv: a parent of it \(.*out\) is a file, not a directory \(at output\.path\)/ },
  {
    name: 'output directory not writable',
    files: { 'job.yaml': job(''), 'in.csv': goodCsv, 'out/.keep': '' },
    before: (d) => chmodSync(path.join(d, 'out'), 0o555),
    exit: 2,
    message: /cannot write .*result\.csv: permission denied \(at output\.path\)/,
  },
];

describe('user mistakes', () => {
  const isRoot = process.getuid?.() === 0;
  for (const c of cases) {
    // chmod does not bind root; test/cli/corpus.test.ts has unwritable outputs that do.
    const skip = isRoot && c.name === 'output directory not writable';
    it.skipIf(skip)(`${c.name} → exit ${c.exit}`, () => runCase(c));
  }
});

describe('serve-batch validate', () => {
  it('catches a wrong feature count with exit 2 and writes nothing', async () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': job('').replace('[x1, x2]', '[x1]'), 'in.csv': goodCsv });
    const r = await runMain(['validate', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("model input 'input' takes 2 features but features.columns lists 1 (at features.columns)");
    expect(listFiles(d)).toEqual(['in.csv', 'job.yaml']);
  });

  it('reports every schema problem at once', async () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': `model: m.onnx\ninput: { path: in.csv, formt: csv }\nfeatures: { columns: [a] }\noutput: o.csv\nbatch_size: lots\nerrors: { max_rejected: many }\n` });
    const r = await runMain(['validate', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(r.status).toBe(2);
    const lines = expectOneLineError(r.stderr);
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).toMatch(/\(at input\.formt\)[\s\S]*\(at batch_size\)[\s\S]*\(at errors\.max_rejected\)/);
  });

  // Spawned: ONNX Runtime's own logging goes to the process's stderr, around what the CLI writes.
  it('runs the model before reading data and names the missing features', () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': `model: ${model('needs20')}\ninput: in.csv\nfeatures: { columns: [a, b] }\noutput: o.csv\n`, 'in.csv': 'a,b\n1,2\n' });
    const r = cli(['validate', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(r.status).toBe(2);
    expect(expectOneLineError(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/the model refuses the features it is given: .*requests feature 19 but input tensor has 2 features — the model needs at least 20 features, features\.columns lists 2 \(at features\.columns\)/);
    expect(r.stderr).not.toContain('onnxruntime:');
    expect(listFiles(d)).toEqual(['in.csv', 'job.yaml']);
  });

  it('says ok with the result columns for a good job', async () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': job(''), 'in.csv': goodCsv });
    const r = await runMain(['validate', path.join(d, 'job.yaml')], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok: .*job\.yaml \(job job\): 1 input file, result columns variable; first 2 rows/);
  });
});

describe('serve-batch inspect', () => {
  it('shows inputs, outputs, ZipMap classes and opsets; --json gives the same as data', async () => {
    const r = await runMain(['inspect', model('zipmap_int')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('float_input  float32 [N, 2]');
    expect(r.stdout).toContain('output_probability  sequence(map(int64, float32))  ZipMap: read as float32 [N, 3], classes 0, 1, 2');
    const j = JSON.parse((await runMain(['inspect', model('zipmap_int'), '--json'])).stdout);
    expect(j.zipmaps).toEqual([{ output: 'output_probability', input: expect.any(String), labels: [0, 1, 2] }]);
    expect(j.opsets).toContainEqual({ domain: 'ai.onnx.ml', version: 3 });
  });

  it('refuses a file that is not a model with exit 2', () => {
    const d = tempDir();
    writeFiles(d, { 'x.onnx': 'garbage' });
    const r = cli(['inspect', path.join(d, 'x.onnx'), '--log-format', 'text']);
    expect(r.status).toBe(2);
    expect(expectOneLineError(r.stderr)[0]).toMatch(/x\.onnx is not a valid ONNX model/);
  });
});
