// `serve-batch run` on real files and real ONNX models: through main() in this process, and spawned where a
// process is the point (the shipped example as a user runs it, standard input and output, what ONNX Runtime
// leaves in HOME and TMPDIR).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, csvRows, expectOneLineError, listFiles, model, ROOT, runMain, tempDir, writeFiles } from '../support/cli.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
// linear_binary.onnx: s = sigmoid(x·[0.5, -1.25, 2.0] + 0.1) on float32 inputs.
const linear = (a: number, b: number, c: number) => sigmoid(Math.fround(a) * 0.5 + Math.fround(b) * -1.25 + Math.fround(c) * 2.0 + 0.1);

describe('serve-batch run', () => {
  it('scores the shipped example out of the box', () => {
    const d = tempDir();
    const r = cli(['run', path.join(ROOT, 'jobs/example.yaml'), '--output', path.join(d, 'out.csv'), '--log-format', 'text']);
    expect(r.stderr).toContain('20 rows');
    expect(r.status).toBe(0);
    const rows = csvRows(readFileSync(path.join(d, 'out.csv'), 'utf8'));
    expect(rows[0]).toEqual(['customer_id', 'name', 'churn', 'p_stay', 'p_leave']);
    expect(rows).toHaveLength(21);
    const src = csvRows(readFileSync(path.join(ROOT, 'fixtures/data/customers.csv'), 'utf8'));
    for (let i = 1; i < rows.length; i++) {
      const [id, name, , tenure, monthly, calls] = src[i];
      const p = linear(Number(tenure), Number(monthly), Number(calls));
      expect(rows[i][0]).toBe(id);
      expect(rows[i][1]).toBe(name);
      expect(rows[i][2]).toBe(p >= 0.5 ? 'leave' : 'stay');
      expect(Number(rows[i][4])).toBeCloseTo(p, 5);
      expect(Math.abs(Number(rows[i][3]) + Number(rows[i][4]) - 1)).toBeLessThan(2e-6);
    }
  });

  it('matches columns by name in any order and passes quoted text and string keys through', async () => {
    const d = tempDir();
    const data = [
      'c,key,b,note,a',
      '1.5,k-001,0.25,"plain",2',
      '-0.5,"k,002",1.75,"has ""quotes"", a comma",0.125',
      '0,k-003,-3,"two\nlines",-1.5',
      '2.25,0007,0.5,,4',
    ].join('\n');
    writeFiles(d, {
      'in/data.csv': `${data}\n`,
      'job.yaml': `model: ${model('linear_binary')}\ninput: in/data.csv\nfeatures:\n  columns: [a, b, c]\npassthrough: [key, note]\noutput: out/{input_stem}.csv\noutput_precision_is_default: x\n`.replace('output_precision_is_default: x\n', ''),
    });
    const r = await runMain(['run', path.join(d, 'job.yaml')]);
    expect(r.status, r.stderr).toBe(0);
    const rows = csvRows(readFileSync(path.join(d, 'out/data.csv'), 'utf8'));
    expect(rows[0]).toEqual(['key', 'note', 'label', 'probabilities_0', 'probabilities_1']);
    const src = csvRows(data + '\n');
    expect(rows.map((r) => r[0])).toEqual(['key', 'k-001', 'k,002', 'k-003', '0007']);
    expect(rows[2][1]).toBe('has "quotes", a comma');
    expect(rows[3][1]).toBe('two\nlines');
    for (let i = 1; i < src.length; i++) {
      const [c, , b, , a] = src[i].map(Number);
      const p = linear(a, b, c);
      expect(Math.abs(Number(rows[i][4]) - p)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(Number(rows[i][3]) - (1 - p))).toBeLessThanOrEqual(1e-5);
      expect(rows[i][2]).toBe(p >= 0.5 ? '1' : '0');
    }
  });

  it('writes one result per input, or one combined result in input order', async () => {
    const d = tempDir();
    writeFiles(d, {
      'in/b.csv': 'a,b,c\n1,1,1\n',
      'in/a.csv': 'a,b,c\n0,0,0\n2,2,2\n',
      'per.yaml': `model: ${model('linear_binary')}\ninput: in/*.csv\nfeatures: { columns: [a, b, c] }\npredictions: [{ output: label, column: y }]\noutput: per/{input_stem}.csv\n`,
      'all.yaml': `model: ${model('linear_binary')}\ninput: in\nfeatures: { columns: [a, b, c] }\npassthrough: [a]\npredictions: [{ output: label, column: y }]\noutput: all/{job}-{date}.csv\n`,
    });
    expect((await runMain(['run', path.join(d, 'per.yaml')])).status).toBe(0);
    expect(readdirSync(path.join(d, 'per')).sort()).toEqual(['a.csv', 'b.csv']);
    expect((await runMain(['run', path.join(d, 'all.yaml')])).status).toBe(0);
    const [file] = readdirSync(path.join(d, 'all'));
    expect(file).toMatch(/^all-\d{4}-\d{2}-\d{2}\.csv$/);
    expect(csvRows(readFileSync(path.join(d, 'all', file), 'utf8')).map((r) => r[0])).toEqual(['a', '0', '2', '1']);
  });

  it('supports stdin/stdout (spawned: real pipes), --limit, --dry-run and --json', async () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: out.csv\nstate_dir: state\n` });
    writeFiles(d, { 'in.csv': 'x1,x2\n1,1\n2,0\n3,1\n' });
    const dry = await runMain(['run', path.join(d, 'job.yaml'), '--dry-run', '--json']);
    expect(dry.status).toBe(0);
    expect(JSON.parse(dry.stdout).status).toBe('dry-run');
    expect(listFiles(d)).toEqual(['in.csv', 'job.yaml']);
    const piped = cli(['run', path.join(d, 'job.yaml'), '--input', '-', '--output', '-'], { input: 'x1,x2\n1,1\n2,0\n3,1\n', cwd: d });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stdout).toBe('variable\n2.5\n6\n5.5\n');
    const limited = await runMain(['run', path.join(d, 'job.yaml'), '--limit', '2', '--json']);
    const rec = JSON.parse(limited.stdout);
    expect(rec.inputs[0]).toMatchObject({ rows_in: 2, rows_out: 2, rows_rejected: 0, status: 'ok' });
    expect(readFileSync(path.join(d, 'out.csv'), 'utf8')).toBe('variable\n2.5\n6\n');
    const saved = JSON.parse(readFileSync(rec.record, 'utf8'));
    expect(saved).toEqual(rec);
    expect(saved.versions.onnxruntime).toMatch(/^1\.\d+/);
  });

  it('rejects bad rows into the rejects file and reconciles the counts', async () => {
    const d = tempDir();
    writeFiles(d, {
      'in.csv': 'id,x1,x2\n1,1,1\n2,abc,1\n3,"multi\nline",2\n4,,5\n5,1,2,3\n6,0.5,0.5\n',
      'job.yaml': `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\npassthrough: [id]\noutput: out.csv\nerrors: { max_rejected: 70%, rejects: rejects.csv }\n`,
    });
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout);
    expect(rec.totals).toMatchObject({ rows_in: 6, rows_out: 2, rows_rejected: 4 });
    expect(csvRows(readFileSync(path.join(d, 'out.csv'), 'utf8')).map((x) => x[0])).toEqual(['id', '1', '6']);
    const rejects = csvRows(readFileSync(path.join(d, 'rejects.csv'), 'utf8'));
    expect(rejects[0]).toEqual(['_file', '_line', '_error', 'id', 'x1', 'x2']);
    expect(rejects.slice(1).map((x) => [x[1], x[3]])).toEqual([
      ['3', '2'],
      ['4', '3'],
      ['6', '4'],
      ['7', '5'],
    ]);
    expect(rejects[1][2]).toBe("column 'x1': 'abc' is not a number");
    expect(rejects[3][2]).toContain("column 'x1': empty value");
    expect(rejects[4][2]).toBe('expected 3 fields, got 4');
  });

  it('fails an input above max_rejected, keeps the other inputs and writes no partial result', async () => {
    const d = tempDir();
    writeFiles(d, {
      'in/a.csv': 'x1,x2\n1,1\n',
      'in/b.csv': 'x1,x2\n1,1\nbad,2\n',
      'in/c.csv': 'x1,x2\n2,2\n',
      'job.yaml': `model: ${model('regressor')}\ninput: in/*.csv\nfeatures: { columns: [x1, x2] }\noutput: out/{input_stem}.csv\nerrors: { rejects: 'out/{input_stem}.rejects.csv' }\n`,
    });
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("too many rejected rows: 1 row (reading stopped), errors.max_rejected is 0");
    expect(r.stderr).toContain("in/b.csv:3: column 'x1': 'bad' is not a number");
    expect(listFiles(path.join(d, 'out'))).toEqual(['a.csv', 'b.rejects.csv', 'c.csv']);
  });

  it('feeds one model input per column (string, float, int64) with features.inputs', async () => {
    const d = tempDir();
    writeFiles(d, {
      'in.csv': 'id,visits,town,age\n1,3,Paris,30\n2,0,Berlin,41.5\n3,1,Lyon,\n4,9007199254740993,Paris,1\n',
      'job.yaml': `model: ${model('per_column')}\ninput: in.csv\nfeatures:\n  inputs: { city: town, age: age, visits: visits }\n  missing: { default: reject, age: nan }\npassthrough: [id]\noutput: out.csv\n`,
    });
    const r = await runMain(['run', path.join(d, 'job.yaml')]);
    expect(r.status, r.stderr).toBe(0);
    const rows = csvRows(readFileSync(path.join(d, 'out.csv'), 'utf8'));
    expect(rows[0]).toEqual(['id', 'score']);
    // score = 0.5*age + 2*visits + (Paris 10, Berlin 20, else -1); NaN age → empty cell.
    expect(rows.slice(1, 3)).toEqual([['1', '31'], ['2', '40.75']]);
    expect(rows[3]).toEqual(['3', '']);
    expect(Number(rows[4][1])).toBeCloseTo(Math.fround(0.5 + 2 * Number(9007199254740993n) + 10), -12);
  });

  it('scores a model with a fixed batch dimension one row per call, with a warning', async () => {
    const d = tempDir();
    writeFiles(d, {
      'in.csv': 'a,b,c\n1,1,1\n1,0,2\n0,0,0\n',
      'job.yaml': `model: ${model('fixed_batch')}\ninput: in.csv\nfeatures: { columns: [a, b, c] }\noutput: out.csv\n`,
    });
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: model input 'input' has a fixed batch dimension of 1/);
    expect(readFileSync(path.join(d, 'out.csv'), 'utf8')).toBe('variable\n6\n7\n0\n');
  });

  it("leaves nothing of ONNX Runtime's telemetry behind: no mat-debug log in TMPDIR, no device id or database in ~/.cache", () => {
    const d = tempDir();
    writeFiles(d, { 'in.csv': 'x1,x2\n1,2\n', 'job.yaml': `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: out.csv\n` });
    const home = path.join(d, 'home');
    const tmp = path.join(d, 'tmp');
    mkdirSync(home);
    mkdirSync(tmp);
    // ONNX Runtime writes under HOME (or XDG_CACHE_HOME) and TMPDIR, and stays quiet when it believes it runs
    // in CI or its own tests: a user's environment has none of that.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(CI|TF_BUILD|GITHUB_ACTIONS|GITLAB_CI|CIRCLECI|TRAVIS|JENKINS_URL|CODEBUILD_BUILD_ID|BUILDKITE|TEAMCITY_VERSION|APPVEYOR|BITBUCKET_BUILD_NUMBER|ORT_RUNNING_UNIT_TESTS|ORT_DISABLE_TELEMETRY|XDG_CACHE_HOME)$/.test(k)));
    const r = spawnSync(process.execPath, [BIN, 'run', path.join(d, 'job.yaml')], { env: { ...env, HOME: home, TMPDIR: tmp }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(path.join(d, 'out.csv'), 'utf8')).toBe('variable\n0.5\n');
    expect(listFiles(home)).toEqual([]);
    expect(listFiles(tmp)).toEqual([]);
  });

  it('--limit never replaces an existing rejects file; an explicit --output takes a partial result, and no rejects file', async () => {
    const d = tempDir();
    writeFiles(d, {
      'in.csv': 'x1,x2\n1,2\n3,four\n5,6\n',
      'job.yaml': `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: out.csv\nerrors: { max_rejected: 5, rejects: rejects.csv }\nstate_dir: state\n`,
    });
    expect((await runMain(['run', path.join(d, 'job.yaml')])).status).toBe(0);
    const before = { out: readFileSync(path.join(d, 'out.csv'), 'utf8'), rejects: readFileSync(path.join(d, 'rejects.csv'), 'utf8') };
    const refused = await runMain(['run', 'job.yaml', '--limit', '2', '--log-format', 'text'], { cwd: d });
    expect(refused.status).toBe(2);
    expect(expectOneLineError(refused.stderr)).toEqual([expect.stringMatching(/^error: job job: invalid — --limit 2 would replace out\.csv with a partial result/)]);
    const r = await runMain(['run', 'job.yaml', '--limit', '2', '--output', 'first.csv', '--log-format', 'text'], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: --limit with --output writes no rejects file: rejects.csv (errors.rejects) stays as it was; rejected rows are only counted');
    expect({ out: readFileSync(path.join(d, 'out.csv'), 'utf8'), rejects: readFileSync(path.join(d, 'rejects.csv'), 'utf8') }).toEqual(before);
    expect(readFileSync(path.join(d, 'first.csv'), 'utf8')).toBe('variable\n0.5\n');
    // An explicit --output is written, also over an existing file.
    writeFiles(d, { 'job.yaml': readFileSync(path.join(d, 'job.yaml'), 'utf8').replace(/errors: .*\n/, '') });
    const limited = await runMain(['run', path.join(d, 'job.yaml'), '--limit', '1', '--output', path.join(d, 'out.csv')]);
    expect(limited.status, limited.stderr).toBe(0);
    expect(readFileSync(path.join(d, 'out.csv'), 'utf8')).toBe('variable\n0.5\n');
  });

  it('a failed input leaves the previous complete result in place, untouched', async () => {
    const d = tempDir();
    writeFiles(d, { 'in.csv': 'x1,x2\n1,2\n3,4\n', 'job.yaml': `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: out.csv\nstate_dir: state\n` });
    expect((await runMain(['run', path.join(d, 'job.yaml')])).status).toBe(0);
    const complete = readFileSync(path.join(d, 'out.csv'), 'utf8');
    writeFiles(d, { 'in.csv': 'x1,x2\n1,2\n3,four\n' });
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).inputs[0]).toMatchObject({ status: 'failed', output: null, rows_in: 2, rows_out: 1, rows_rejected: 1 });
    expect(readFileSync(path.join(d, 'out.csv'), 'utf8')).toBe(complete);
  });

  it('a count of rejects is checked after each chunk of batch_size rows: reading stops at the end of the chunk that exceeded it', async () => {
    const d = tempDir();
    const rows = Array.from({ length: 25 }, (_, i) => (i === 2 ? 'x,1' : `${i},1`));
    writeFiles(d, { 'in.csv': `x1,x2\n${rows.join('\n')}\n`, 'job.yaml': `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: out.csv\nbatch_size: 10\nstate_dir: state\n` });
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--json']);
    expect(r.status).toBe(1);
    const rec = JSON.parse(r.stdout);
    expect(rec.inputs[0]).toMatchObject({ status: 'failed', rows_in: 10, rows_out: 9, rows_rejected: 1 });
    expect(rec.error).toMatch(/too many rejected rows: 1 row \(reading stopped\), errors\.max_rejected is 0; first: .*in\.csv:4: column 'x1': 'x' is not a number/);
  });
});
