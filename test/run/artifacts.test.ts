// The files a run writes, checked before anything is read, the same way by `run` and `validate`: none of them
// may be another (by name, token or symlink) or an input, lie outside its template's directory, or be
// unwritable; an incremental job keeps every result; and data quoted in messages stays short.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadJob } from '../../src/job/load.js';
import type { RunRecord } from '../../src/run/record.js';
import { runJob, type RunOptions } from '../../src/run/run-job.js';
import { validateJob } from '../../src/run/validate.js';
import { listFiles, model, tempDir, writeFiles } from '../support/cli.js';

const regressor = (extra = '', input = 'in.csv', output = 'out/r.csv') =>
  `model: ${model('regressor')}\ninput: ${input}\nfeatures: { columns: [x1, x2] }\noutput: ${output}\n${extra}`;
// Two good rows and one the model cannot take.
const CSV = 'x1,x2\n1,2\n3,4\n5,five\n';

// A directory with these files; the job file is job.yaml.
function dir(files: Record<string, string>): string {
  const d = tempDir();
  writeFiles(d, files);
  return d;
}

// Messages show paths relative to the working directory: work in `d`.
async function inside<T>(d: string, fn: () => Promise<T>): Promise<T> {
  const cwd = process.cwd();
  process.chdir(d);
  try {
    return await fn();
  } finally {
    process.chdir(cwd);
  }
}

const run = (d: string, options: RunOptions = {}): Promise<RunRecord> => inside(d, () => runJob(loadJob(path.join(d, 'job.yaml')), options));
// The run id the job's ledger holds for its first entry.
const firstRunId = async (d: string): Promise<string> => Object.values(JSON.parse(readFileSync(path.join(d, '.serve-batch/ledger/job.json'), 'utf8')).entries as Record<string, { run_id: string }>)[0].run_id;
const validate = (d: string) => inside(d, () => validateJob(path.join(d, 'job.yaml')));

// `run` refuses before reading (exit 2, no result, no rejects) and `validate` reports the same line. The
// run's record and metrics (`metrics`: its file) are written, as after every run.
async function refusedByBoth(d: string, message: RegExp, metrics?: string): Promise<void> {
  const written = (f: string) => !f.startsWith('.serve-batch/') && f !== metrics;
  const before = listFiles(d).filter(written);
  const record = await run(d);
  expect(record.status, record.error ?? '').toBe('invalid');
  expect(record.exit_code).toBe(2);
  expect(record.error).toMatch(message);
  expect(record.inputs).toEqual([]);
  expect(listFiles(d).filter(written)).toEqual(before);
  const report = await validate(d);
  expect(report.ok).toBe(false);
  expect(report.problems).toEqual([expect.stringMatching(message)]);
}

describe('two files of one run that would be one file are refused, naming both YAML keys', () => {
  it('errors.rejects equal to output.path: an invalid job file, so the scheduler refuses it at start', async () => {
    const d = dir({ 'in.csv': CSV, 'job.yaml': regressor('errors: { max_rejected: 5, rejects: out/r.csv }\n') });
    expect(() => loadJob(path.join(d, 'job.yaml'))).toThrow(/invalid/);
    const report = await validate(d);
    expect(report.problems).toEqual([expect.stringMatching(/job\.yaml:5:37: errors\.rejects is output\.path: the rejected rows and the result would both be written to that file, one replacing the other: give each its own file \(at errors\.rejects\)$/)]);
    const tokens = dir({ 'in.csv': CSV, 'job.yaml': regressor("errors: { max_rejected: 5, rejects: 'out/{input_stem}.csv' }\n", 'in.csv', "'out/{input_stem}.csv'") });
    expect((await validate(tokens)).problems).toEqual([expect.stringMatching(/errors\.rejects is output\.path/)]);
  });

  it('the same file through tokens: a per-input result and a rejects file', async () => {
    const d = dir({ 'in/a.csv': CSV, 'in/b.csv': CSV, 'job.yaml': regressor("errors: { max_rejected: 5, rejects: 'out/{input_stem}.csv' }\n", 'in', "'out/{input_name}'") });
    // out/a.csv is a's result (input_name) and a's rejects (input_stem + .csv).
    await refusedByBoth(d, /the result for in\/a\.csv \(output\.path\) and the rejected rows of in\/a\.csv \(errors\.rejects\) would both be written to out\/a\.csv/);
  });

  it('the same file through a symlinked directory', async () => {
    const d = dir({ 'in.csv': CSV, 'out/.keep': '', 'job.yaml': regressor('errors: { max_rejected: 5, rejects: alias/r.csv }\n') });
    symlinkSync(path.join(d, 'out'), path.join(d, 'alias'));
    await refusedByBoth(d, /would both be written to out\/r\.csv \(also reached as alias\/r\.csv, through a symlink\), one replacing the other/);
  });

  it('the metrics file, and a result in the run records', async () => {
    const metrics = dir({ 'in.csv': CSV, 'job.yaml': regressor('errors: { max_rejected: 5, rejects: out/rej.csv }\nmetrics_file: out/rej.csv\n') });
    await refusedByBoth(metrics, /the rejected rows of in\.csv \(errors\.rejects\) and the metrics file \(metrics_file\) would both be written to out\/rej\.csv.*\(at metrics_file\)$/, 'out/rej.csv');
    expect(readFileSync(path.join(metrics, 'out/rej.csv'), 'utf8')).toContain('serve_batch_last_run_status{job_name="job",status="invalid"} 1');
    const record = dir({ 'in.csv': CSV, 'job.yaml': regressor('', 'in.csv', "'.serve-batch/runs/job/{run_id}.json'") });
    await refusedByBoth(record, /the result for in\.csv \(output\.path\) and the run record \(state_dir\) would both be written to .*\.json.*\(at output\.path\)$/);
  });

  it('two inputs whose rejects files would be one', async () => {
    const d = dir({ 'in/a.csv': CSV, 'in/a.tsv': CSV.replace(/,/g, '\t'), 'in/b.csv': CSV, 'job.yaml': regressor("errors: { max_rejected: 5, rejects: 'rej/{input_stem}.csv' }\n", 'in', "'out/{input_name}'") });
    await refusedByBoth(d, /^in\/a\.csv and in\/a\.tsv would both write their rejected rows to rej\/a\.csv; use \{input_name\} or a finer template \(at errors\.rejects\)$/);
  });

  it('a result over an input reached through a symlinked directory', async () => {
    const d = dir({ 'data/in.csv': CSV, 'job.yaml': regressor('', 'data/in.csv', 'link/in.csv') });
    symlinkSync(path.join(d, 'data'), path.join(d, 'link'));
    await refusedByBoth(d, /^the result for data\/in\.csv would overwrite an input \(data\/in\.csv\); write it to another directory \(at output\.path\)$/);
    expect(readFileSync(path.join(d, 'data/in.csv'), 'utf8')).toBe(CSV);
  });

  it('a result at the name of a symlinked input (the next run would read the result)', async () => {
    const d = dir({ 'data/in.csv': CSV, 'job.yaml': regressor('', 'link.csv', 'link.csv') });
    symlinkSync(path.join(d, 'data/in.csv'), path.join(d, 'link.csv'));
    await refusedByBoth(d, /^the result for link\.csv would overwrite an input \(link\.csv\); write it to another directory \(at output\.path\)$/);
  });

  it('a result or rejects file over the model, its data file or the job file', async () => {
    const onModel = dir({ 'in.csv': CSV, 'm.onnx': '', 'job.yaml': regressor('', 'in.csv', 'm.onnx').replace(model('regressor'), 'm.onnx') });
    writeFileSync(path.join(onModel, 'm.onnx'), readFileSync(model('regressor')));
    await refusedByBoth(onModel, /^the result for in\.csv would overwrite the model \(m\.onnx\); write it to another directory \(at output\.path\)$/);
    const onJob = dir({ 'in.csv': CSV, 'job.yaml': regressor('errors: { max_rejected: 5, rejects: job.yaml }\n') });
    await refusedByBoth(onJob, /^the rejected rows of in\.csv would overwrite the job file \(job\.yaml\); write it to another directory \(at errors\.rejects\)$/);
    const bin = path.join(path.dirname(model('external_data')), 'external_data.bin');
    const onData = dir({ 'in.csv': 'x1,x2\n1,1\n', 'm/e.onnx': '', 'job.yaml': 'model: m/e.onnx\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: { path: m/external_data.bin, format: csv }\n' });
    writeFileSync(path.join(onData, 'm/e.onnx'), readFileSync(model('external_data')));
    writeFileSync(path.join(onData, 'm/external_data.bin'), readFileSync(bin));
    await refusedByBoth(onData, /^the result for in\.csv would overwrite a data file of the model \(m\/external_data\.bin\); write it to another directory \(at output\.path\)$/);
    expect(readFileSync(path.join(onData, 'm/external_data.bin'))).toEqual(readFileSync(bin));
  });

  it("the scheduler's state of the job and the metrics file's lock are files of the job too", async () => {
    const state = dir({ 'in.csv': CSV, 'job.yaml': regressor('', 'in.csv', '.serve-batch/schedule/{job}.json') });
    await refusedByBoth(state, /^the result for in\.csv \(output\.path\) and the scheduler's state of the job \(state_dir\) would both be written to \.serve-batch\/schedule\/job\.json, one replacing the other: give each its own file \(at output\.path\)$/);
    const lock = dir({ 'in.csv': CSV, 'job.yaml': regressor('metrics_file: m/serve_batch.prom\n', 'in.csv', 'm/.serve_batch.prom.lock') });
    await refusedByBoth(lock, /^the result for in\.csv \(output\.path\) and the metrics file's lock \(state_dir\) would both be written to m\/\.serve_batch\.prom\.lock, one replacing the other: give each its own file \(at output\.path\)$/, 'm/serve_batch.prom');
  });

  it('two files on one device are not said to replace each other: their bytes would mix', async () => {
    const d = dir({ 'in.csv': CSV, 'job.yaml': regressor('errors: { max_rejected: 5, rejects: ./null }\nmetrics_file: ./null\n') });
    execFileSync('mknod', [path.join(d, 'null'), 'c', '1', '3']);
    await refusedByBoth(d, /^the rejected rows of in\.csv \(errors\.rejects\) and the metrics file \(metrics_file\) would both be written to null, mixed into one stream: give each its own file, or leave one out \(at metrics_file\)$/, 'null');
  });

  it('distinct files are fine, and a shared rejects file or combined result is one file by design', async () => {
    const d = dir({ 'in/a.csv': CSV, 'in/b.csv': CSV, 'job.yaml': regressor('errors: { max_rejected: 5, rejects: out/rejects.csv }\n', 'in', 'out/all.csv') });
    const record = await run(d);
    expect(record.status, record.error ?? '').toBe('ok');
    expect(readFileSync(path.join(d, 'out/all.csv'), 'utf8')).toBe('variable\n0.5\n-0.5\n0.5\n-0.5\n');
    expect(readFileSync(path.join(d, 'out/rejects.csv'), 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
  });
});

describe('--limit with --output', () => {
  it("writes no rejects file, so an existing one neither refuses the run nor is replaced", async () => {
    const d = dir({ 'in.csv': CSV, 'out/rej.csv': 'earlier\n', 'job.yaml': regressor('errors: { max_rejected: 5, rejects: out/rej.csv }\n') });
    for (const output of ['-', 'peek.csv']) {
      const r = await run(d, { limit: 5, output });
      expect([r.status, r.totals.rows_rejected], r.error ?? '').toEqual(['ok', 1]);
      expect(r.warnings).toEqual(['--limit with --output writes no rejects file: out/rej.csv (errors.rejects) stays as it was; rejected rows are only counted']);
      expect(readFileSync(path.join(d, 'out/rej.csv'), 'utf8')).toBe('earlier\n');
    }
  });
});

describe('validate catches what run would refuse before scoring', () => {
  it('a state_dir that cannot be written', async () => {
    const d = dir({ 'in.csv': CSV, afile: 'x', 'job.yaml': regressor('state_dir: afile/state\n') });
    const report = await validate(d);
    expect(report.problems).toEqual([expect.stringMatching(/^cannot write the job's state in .*afile\/state: a parent of it is a file, not a directory \(at state_dir\)$/)]);
    const record = await run(d);
    expect(record).toMatchObject({ status: 'invalid', exit_code: 2, error: report.problems[0] });
  });

  it('an output folder that cannot be written: refused before any row is read', async () => {
    const d = dir({ 'in.csv': CSV, afile: 'x', 'job.yaml': regressor('errors: { max_rejected: 5, rejects: rej/r.csv }\n', 'in.csv', 'afile/out/r.csv') });
    await refusedByBoth(d, /^cannot write afile\/out\/r\.csv: a parent of it \(afile\) is a file, not a directory \(at output\.path\)$/);
    const rejects = dir({ 'in.csv': CSV, afile: 'x', 'job.yaml': regressor('errors: { max_rejected: 5, rejects: afile/r.csv }\n') });
    await refusedByBoth(rejects, /^cannot write afile\/r\.csv: a parent of it \(afile\) is a file, not a directory \(at errors\.rejects\)$/);
    const taken = dir({ 'in.csv': CSV, 'out/r.csv/keep': '', 'job.yaml': regressor() });
    await refusedByBoth(taken, /^cannot write out\/r\.csv: it is a directory: give a file name \(at output\.path\)$/);
  });

  it('a result name too long for the file system', async () => {
    const d = dir({ 'in.csv': CSV, 'job.yaml': regressor('', 'in.csv', `'out/{job}-${'x'.repeat(240)}.csv'`) });
    await refusedByBoth(d, /^the result for in\.csv would be named 'job-x{16}…' \(248 bytes\), longer than the 230 bytes a result's name may have .*; shorten output\.path \(at output\.path\)$/);
  });

  it('a device is written through, so its directory does not matter', async () => {
    const d = dir({ 'in.csv': CSV, 'job.yaml': regressor('', 'in.csv', '/dev/null') });
    const report = await validate(d);
    expect(report.problems).toEqual([]);
  });
});

describe('an incremental job keeps every result', () => {
  it('refuses one combined result with the same name every run (it would hold only the last run\'s rows)', async () => {
    const d = dir({ 'landing/a.csv': 'x1,x2\n1,2\n', 'job.yaml': regressor('', '{ path: landing/*.csv, incremental: true }', 'scored/all.csv') });
    expect(() => loadJob(path.join(d, 'job.yaml'))).toThrow(/invalid/);
    const report = await validate(d);
    expect(report.problems).toEqual([expect.stringMatching(/job\.yaml:4:9: an incremental job scores only the inputs that are new since its last run, .*\{input_stem\}.*\{run_id\}.* \(at output\.path\)$/)]);
    expect(existsSync(path.join(d, 'scored'))).toBe(false);
  });

  it('refuses one shared rejects file with the same name every run (the earlier inputs\' rejects would be lost)', async () => {
    const job = (rejects: string) => regressor(`errors: { max_rejected: 5, rejects: '${rejects}' }\n`, '{ path: landing/*.csv, incremental: true }', "'scored/{input_stem}.csv'");
    const d = dir({ 'landing/p1.csv': CSV, 'job.yaml': job('scored/rejects.csv') });
    expect(() => loadJob(path.join(d, 'job.yaml'))).toThrow(/invalid/);
    const report = await validate(d);
    expect(report.problems).toEqual([expect.stringMatching(/job\.yaml:5:\d+: an incremental job scores only the inputs that are new since its last run, so one rejects file with the same name every run would keep only the last run's rejects .*\{input_stem\}.*\{run_id\}.* \(at errors\.rejects\)$/)]);
    // One rejects file per input keeps the first run's rejects when a later run scores only a new input.
    writeFileSync(path.join(d, 'job.yaml'), job('scored/{input_stem}.rej.csv'));
    expect((await run(d)).status).toBe('ok');
    const first = readFileSync(path.join(d, 'scored/p1.rej.csv'), 'utf8');
    writeFiles(d, { 'landing/p2.csv': 'x1,x2\n7,8\n' });
    const second = await run(d);
    expect(second.inputs.map((i) => i.status)).toEqual(['skipped', 'ok']);
    expect(readFileSync(path.join(d, 'scored/p1.rej.csv'), 'utf8')).toBe(first);
  });

  it("refuses to score an input into a result the ledger keeps for another input, across runs (exit 2, naming both)", async () => {
    const d = dir({ 'land/x/p.csv': CSV, 'job.yaml': regressor("errors: { max_rejected: 5 }\n", '{ path: land/**/*.csv, incremental: true }', "'scored/{input_stem}.csv'") });
    expect((await run(d)).status).toBe('ok');
    const first = readFileSync(path.join(d, 'scored/p.csv'), 'utf8');
    renameSync(path.join(d, 'land/x'), path.join(d, 'gone'));
    writeFiles(d, { 'land/y/p.csv': 'x1,x2\n7,8\n' });
    const second = await run(d);
    expect([second.status, second.exit_code]).toEqual(['invalid', 2]);
    expect(second.error).toBe('land/y/p.csv would replace scored/p.csv, the result of land/x/p.csv (scored by run ' + (await firstRunId(d)) + ', in the ledger .serve-batch/ledger/job.json): rename one of them or use a finer template; if that result may go, remove its entry from the ledger (at output.path)');
    expect(readFileSync(path.join(d, 'scored/p.csv'), 'utf8')).toBe(first);
  });

  it('run --output - records nothing in the ledger: the next run still scores and writes every input', async () => {
    const d = dir({ 'land/a.csv': 'x1,x2\n1,2\n', 'job.yaml': regressor('', '{ path: land/*.csv, incremental: true }', "'scored/{input_stem}.csv'") });
    const piped = await run(d, { output: '-' });
    expect([piped.status, piped.incremental]).toEqual(['ok', undefined]);
    expect(existsSync(path.join(d, '.serve-batch/ledger/job.json'))).toBe(false);
    const next = await run(d);
    expect(next.inputs.map((i) => i.status)).toEqual(['ok']);
    expect(readFileSync(path.join(d, 'scored/a.csv'), 'utf8')).toBe('variable\n0.5\n');
  });

  it('with {run_id}, each run writes its own file and no row is lost', async () => {
    const d = dir({ 'landing/a.csv': 'x1,x2\n1,2\n', 'landing/b.csv': 'x1,x2\n3,4\n', 'job.yaml': regressor('', '{ path: landing/*.csv, incremental: true }', "'scored/{date}-{run_id}.csv'") });
    const first = await run(d);
    expect(first.status).toBe('ok');
    writeFileSync(path.join(d, 'landing/c.csv'), 'x1,x2\n1,2\n');
    const second = await run(d);
    expect(second.inputs.map((i) => i.status)).toEqual(['skipped', 'skipped', 'ok']);
    expect(readdirSync(path.join(d, 'scored'))).toHaveLength(2);
    expect(readFileSync(first.inputs[0].output ?? '', 'utf8')).toBe('variable\n0.5\n-0.5\n');
    expect(readFileSync(second.inputs[2].output ?? '', 'utf8')).toBe('variable\n0.5\n');
  });

  it('refuses --output with one fixed name, unless --reprocess puts every input in it', async () => {
    const d = dir({ 'landing/a.csv': 'x1,x2\n1,2\n', 'job.yaml': regressor('', '{ path: landing/*.csv, incremental: true }', "'scored/{input_stem}.csv'") });
    const out = path.join(d, 'all.csv');
    const refused = await run(d, { output: out });
    expect(refused).toMatchObject({ status: 'invalid', exit_code: 2 });
    expect(refused.error).toMatch(/^--output .*all\.csv: an incremental job scores only the inputs .*; or add --reprocess to score every input into it$/);
    expect(existsSync(out)).toBe(false);
    expect(await run(d, { output: out, reprocess: true })).toMatchObject({ status: 'ok' });
    expect(readFileSync(out, 'utf8')).toBe('variable\n0.5\n');
  });
});

describe('input names cannot place a result outside its template\'s directory', () => {
  it('inputs named ...csv and ..csv (stems .. and .) write under out/', async () => {
    const d = dir({ 'in/...csv': 'x1,x2\n1,2\n', 'in/..csv': 'x1,x2\n3,4\n', 'job.yaml': regressor("errors: { rejects: 'out/{input_stem}/rejects.csv' }\n", '[in/...csv, in/..csv]', "'out/{input_stem}/r.csv'") });
    const record = await run(d);
    expect(record.status, record.error ?? '').toBe('ok');
    expect(record.inputs.map((i) => path.relative(d, i.output ?? ''))).toEqual(['out/__/r.csv', 'out/_/r.csv']);
    expect(listFiles(d).filter((f) => f.endsWith('.csv') && !f.startsWith('in/'))).toEqual(['out/_/r.csv', 'out/__/r.csv']);
    expect(existsSync(path.join(d, 'r.csv'))).toBe(false);
  });
});

describe('data quoted in messages is cut short', () => {
  it('a symlink to a file that is not CSV shows at most 20 characters of its first line, in the message and the record', async () => {
    const secret = `-----BEGIN OPENSSH PRIVATE KEY-----${'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'.repeat(3)}`;
    const d = dir({ 'keys/id': `${secret}\nmore\n`, 'job.yaml': regressor() });
    symlinkSync(path.join(d, 'keys/id'), path.join(d, 'in.csv'));
    const record = await run(d);
    expect(record.status).toBe('failed');
    expect(record.inputs[0].error).toBe("in.csv:1: column 'x1' is not in the header (columns: '-----BEGIN OPENSSH P…')");
    const saved = readFileSync(record.record ?? '', 'utf8');
    expect(saved).not.toContain(secret.slice(0, 21));
  });

  it('a 40-character token symlinked as an input is never shown whole', async () => {
    const token = 'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
    const d = dir({ 'keys/token': `${token}\n`, 'job.yaml': regressor() });
    symlinkSync(path.join(d, 'keys/token'), path.join(d, 'in.csv'));
    const record = await run(d);
    expect(record.inputs[0].error).toBe("in.csv:1: column 'x1' is not in the header (columns: 'ghp_AbCdEfGhIjKlMnOp…')");
    expect(readFileSync(record.record ?? '', 'utf8')).not.toContain(token);
  });
});
