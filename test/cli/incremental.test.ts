// input.incremental: a landing folder scored once per file, through main() in this process (standard input
// through the spawned CLI).
import { copyFileSync, readFileSync, readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectOneLineError, listFiles, model, runMain, tempDir, writeFiles } from '../support/cli.js';

interface Rec {
  status: string;
  exit_code: number;
  run_id: string;
  error: string | null;
  totals: { inputs: number; skipped: number; failed: number; rows_in: number };
  incremental?: { ledger: string; reprocess: boolean };
  inputs: { path: string; status: string; reason: string | null; output: string | null; sha256: string | null; error: string | null }[];
}

const job = (extra = '', output = "'out/{input_stem}.csv'") =>
  `model: model.onnx\ninput: { path: landing/*.csv, incremental: true }\nfeatures: { columns: [x1, x2] }\noutput: ${output}\n${extra}`;

async function run(d: string, ...args: string[]): Promise<Rec> {
  const r = await runMain(['run', path.join(d, 'job.yaml'), '--json', ...args], { cwd: d });
  expect([0, 1], r.stderr).toContain(r.status);
  return JSON.parse(r.stdout) as Rec;
}

const statusOf = (rec: Rec) => Object.fromEntries(rec.inputs.map((i) => [path.basename(i.path), i.status]));

describe('incremental inputs', () => {
  it('scores each file of a landing folder once, and again only when its content, the model or the job changes', async () => {
    const d = tempDir();
    copyFileSync(model('regressor'), path.join(d, 'model.onnx'));
    writeFiles(d, { 'job.yaml': job(), 'landing/a.csv': 'x1,x2\n1,2\n', 'landing/b.csv': 'x1,x2\n3,4\n' });

    const first = await run(d);
    expect(statusOf(first)).toEqual({ 'a.csv': 'ok', 'b.csv': 'ok' });
    expect(first.inputs.map((i) => i.reason)).toEqual(['new input', 'new input']);
    expect(first.incremental).toEqual({ ledger: path.join(d, '.serve-batch/ledger/job.json'), reprocess: false });
    const aResult = path.join(d, 'out/a.csv');
    const written = statSync(aResult).mtimeMs;

    // Nothing new: nothing scored, nothing rewritten.
    const second = await run(d);
    expect(statusOf(second)).toEqual({ 'a.csv': 'skipped', 'b.csv': 'skipped' });
    expect(second.inputs[0]).toMatchObject({ output: null, sha256: first.inputs[0].sha256, reason: `already scored by run ${first.run_id}, unchanged (same sha256, model and job settings)` });
    expect(second.totals).toMatchObject({ inputs: 2, skipped: 2, rows_in: 0 });
    expect(statSync(aResult).mtimeMs).toBe(written);

    // A new file, a rewritten one of the same size, a touched one.
    writeFiles(d, { 'landing/c.csv': 'x1,x2\n5,6\n', 'landing/b.csv': 'x1,x2\n9,9\n' });
    utimesSync(path.join(d, 'landing/a.csv'), new Date(), new Date(Date.now() + 60_000));
    const third = await run(d);
    expect(statusOf(third)).toEqual({ 'a.csv': 'skipped', 'b.csv': 'ok', 'c.csv': 'ok' });
    expect(third.inputs[0].reason).toContain('only its modification time changed');
    expect(third.inputs[1].reason).toBe(`its content changed since it was scored by run ${first.run_id} (same size, other sha256)`);
    expect(readFileSync(path.join(d, 'out/b.csv'), 'utf8')).toBe('variable\n-1.5\n');

    // Another model: everything again.
    copyFileSync(model('float64_regressor'), path.join(d, 'model.onnx'));
    const fourth = await run(d);
    expect(statusOf(fourth)).toEqual({ 'a.csv': 'ok', 'b.csv': 'ok', 'c.csv': 'ok' });
    expect(fourth.inputs[0].reason).toMatch(/^the model changed since it was scored by run /);

    // A setting that changes results: everything again; one that does not (batch_size): nothing.
    writeFiles(d, { 'job.yaml': job('batch_size: 7\n') });
    expect((await run(d)).totals.skipped).toBe(3);
    writeFiles(d, { 'job.yaml': job('batch_size: 7\n', "{ path: 'out/{input_stem}.csv', float_precision: 3 }") });
    const fifth = await run(d);
    expect(fifth.totals.skipped).toBe(0);
    expect(fifth.inputs[0].reason).toMatch(/^the job's settings changed since it was scored by run /);
    expect((await run(d)).totals.skipped).toBe(3);
  });

  it('--reprocess scores everything and updates the ledger; --limit and --dry-run leave it alone', async () => {
    const d = tempDir();
    copyFileSync(model('regressor'), path.join(d, 'model.onnx'));
    writeFiles(d, { 'job.yaml': job(), 'landing/a.csv': 'x1,x2\n1,2\n3,4\n' });
    const first = await run(d);
    const ledgerFile = path.join(d, '.serve-batch/ledger/job.json');
    const again = await run(d, '--reprocess');
    expect(again.inputs[0]).toMatchObject({ status: 'ok', reason: `--reprocess (already scored by run ${first.run_id}, unchanged (same sha256, model and job settings))` });
    expect(again.incremental?.reprocess).toBe(true);
    expect(JSON.parse(readFileSync(ledgerFile, 'utf8')).entries[path.join(d, 'landing/a.csv')].run_id).toBe(again.run_id);

    // --limit: a partial score neither skips nor counts as scored, and never replaces a result the ledger
    // counts as scored (it would never be scored again).
    writeFiles(d, { 'landing/b.csv': 'x1,x2\n5,6\n7,8\n' });
    const complete = readFileSync(path.join(d, 'out/a.csv'), 'utf8');
    const refused = await runMain(['run', path.join(d, 'job.yaml'), '--limit', '1', '--log-format', 'text'], { cwd: d });
    expect(refused.status).toBe(2);
    expect(expectOneLineError(refused.stderr)).toEqual(['error: job job: invalid — --limit 1 would replace out/a.csv with a partial result (the first 1 row of each input): write it elsewhere with --output PATH (or --output - for standard output), or remove that file first']);
    expect(readFileSync(path.join(d, 'out/a.csv'), 'utf8')).toBe(complete);
    const limited = await run(d, '--limit', '1', '--output', 'preview/{input_stem}.csv');
    expect(statusOf(limited)).toEqual({ 'a.csv': 'ok', 'b.csv': 'ok' });
    expect(limited.incremental).toBeUndefined();
    expect(readFileSync(path.join(d, 'preview/a.csv'), 'utf8')).toBe('variable\n0.5\n');
    expect(readFileSync(path.join(d, 'out/a.csv'), 'utf8')).toBe(complete);
    const ledger = readFileSync(ledgerFile, 'utf8');
    expect(ledger).not.toContain('b.csv');

    // --dry-run says what the ledger would skip and writes nothing.
    const dry = await runMain(['run', path.join(d, 'job.yaml'), '--dry-run', '--log-format', 'text'], { cwd: d });
    expect(dry.status).toBe(0);
    expect(dry.stderr).toContain(`landing/a.csv: skipped, already scored by run ${again.run_id}`);
    expect(dry.stderr).toContain('landing/b.csv → out/b.csv: would be scored');
    expect(dry.stderr).toContain('job job: dry run — 1 input would be scored (1 skipped: already scored); nothing was written');
    expect(readFileSync(ledgerFile, 'utf8')).toBe(ledger);
  });

  it('a failed input is not in the ledger, so the next run tries it again', async () => {
    const d = tempDir();
    copyFileSync(model('regressor'), path.join(d, 'model.onnx'));
    writeFiles(d, { 'job.yaml': job(), 'landing/a.csv': 'x1,x2\n1,2\n', 'landing/b.csv': 'x1,x2\n1,oops\n' });
    const first = await run(d);
    expect(first.exit_code).toBe(1);
    expect(statusOf(first)).toEqual({ 'a.csv': 'ok', 'b.csv': 'failed' });
    writeFiles(d, { 'landing/b.csv': 'x1,x2\n1,2\n' });
    const second = await run(d);
    expect(second.exit_code).toBe(0);
    expect(statusOf(second)).toEqual({ 'a.csv': 'skipped', 'b.csv': 'ok' });
    expect(second.inputs[1].reason).toBe('new input');
  });

  it('with one combined result per run, each run holds only the new files', async () => {
    const d = tempDir();
    copyFileSync(model('regressor'), path.join(d, 'model.onnx'));
    writeFiles(d, { 'job.yaml': job('passthrough: [id]\n', "'out/{run_id}.csv'"), 'landing/a.csv': 'id,x1,x2\na,1,2\n', 'landing/b.csv': 'id,x1,x2\nb,3,4\n' });
    const first = await run(d);
    writeFiles(d, { 'landing/c.csv': 'id,x1,x2\nc,5,6\n' });
    const second = await run(d);
    const third = await run(d);
    expect(third.totals.skipped).toBe(3);
    const ids = (rec: Rec) => readFileSync(path.join(d, 'out', `${rec.run_id}.csv`), 'utf8').split('\n').slice(1, -1).map((l) => l.split(',')[0]);
    expect(ids(first)).toEqual(['a', 'b']);
    expect(ids(second)).toEqual(['c']);
    // nothing new: no empty result file
    expect(readdirSync(path.join(d, 'out')).sort()).toEqual([`${first.run_id}.csv`, `${second.run_id}.csv`].sort());
  });

  it('a damaged ledger stops the run with exit 2 and one line, before anything is read or written', async () => {
    const d = tempDir();
    copyFileSync(model('regressor'), path.join(d, 'model.onnx'));
    writeFiles(d, { 'job.yaml': job(), 'landing/a.csv': 'x1,x2\n1,2\n', '.serve-batch/ledger/job.json': '{"version": 1, "entries": {"/x' });
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(r.status).toBe(2);
    const lines = expectOneLineError(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: job job: invalid — the incremental ledger \.serve-batch\/ledger\/job\.json cannot be read \(.*\); restore it, or delete it to score every input again \(at input\.incremental\)$/);
    expect(listFiles(d).filter((f) => f.startsWith('out') || f.includes('.sb-tmp'))).toEqual([]);
  });

  it('standard input is never skipped or recorded', () => {
    const d = tempDir();
    copyFileSync(model('regressor'), path.join(d, 'model.onnx'));
    writeFiles(d, { 'job.yaml': job(), 'landing/a.csv': 'x1,x2\n1,2\n' });
    for (let i = 0; i < 2; i++) {
      const r = cli(['run', path.join(d, 'job.yaml'), '--input', '-', '--output', '-'], { cwd: d, input: 'x1,x2\n1,1\n' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('variable\n2.5\n');
    }
    expect(listFiles(d)).not.toContain('.serve-batch/ledger/job.json');
  });
});
