// `serve-batch init` and the snippet `inspect` prints: starter jobs from a model and a sample's header. The
// starter job's way from init through validate to run, and a job printed on standard output, are the spawned
// CLI; the rest runs main() in this process.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectOneLineError, listFiles, model, runMain, tempDir, writeFiles } from '../support/cli.js';

describe('serve-batch inspect: job snippet', () => {
  it('prints a features/predictions snippet named from the model (text and --json)', async () => {
    const r = await runMain(['inspect', model('classes_357')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("job snippet (paste into a job file; serve-batch init maps it onto a sample's header):\nfeatures:\n  columns: ['petal length', 'petal width']");
    expect(r.stdout).toContain('  - output: output_probability\n    column: output_probability   # ZipMap probabilities');
    const j = JSON.parse((await runMain(['inspect', model('classes_357'), '--json'])).stdout);
    expect(j.snippet).toMatch(/^features:\n {2}columns: \['petal length', 'petal width'\]/);
  });

  it('comments out an output that cannot be returned', async () => {
    const r = await runMain(['inspect', model('int4_output')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("predictions:\n  # - output: q   # int4 [N, 2]: onnxruntime-node cannot return it\n  - output: 'y'\n");
  });
});

describe('serve-batch init', () => {
  it('writes a starter job that validates and runs, and says what it matched loosely', () => {
    const d = tempDir();
    writeFiles(d, { 'data/sample.csv': 'ID,City,AGE,visits\n1,Paris,30,2\n2,Berlin,,0\n' });
    const r = cli(['init', '--model', model('per_column'), '--input', 'data/sample.csv', '-o', 'jobs/score.yaml', '--log-format', 'text'], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("warning: model input 'city' matched column 'City' ignoring case and punctuation");
    expect(r.stderr).toContain("warning: model input 'age' matched column 'AGE' ignoring case and punctuation");
    expect(r.stderr).toContain('wrote jobs/score.yaml; next: serve-batch validate jobs/score.yaml');
    const yaml = readFileSync(path.join(d, 'jobs/score.yaml'), 'utf8');
    expect(yaml).toContain('  path: ../data/sample.csv\n');
    expect(yaml).toContain('    AGE: nan   # CHECK');
    const v = cli(['validate', 'jobs/score.yaml', '--log-format', 'text'], { cwd: d });
    expect(v.status, v.stderr).toBe(0);
    const run = cli(['run', 'jobs/score.yaml', '--log-format', 'text'], { cwd: d });
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(path.join(d, 'jobs/out/score/sample.scored.csv'), 'utf8')).toBe('score\n29\n\n');
  });

  it('prints to stdout without -o, and lists what it could not match (spawned)', () => {
    const d = tempDir();
    writeFiles(d, { 'sample.csv': 'town,age,visits\nParis,30,2\n' });
    const r = cli(['init', '--model', model('per_column'), '--input', 'sample.csv', '--log-format', 'text'], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('    city: city   # CHECK: no column of the sample matches; string [N, 1]\n');
    expect(r.stderr).toContain("warning: not matched to a column of sample.csv: model input 'city'; edit the lines marked CHECK");
    expect(listFiles(d)).toEqual(['sample.csv']);
  });

  it.each([
    ['an existing -o file', ['--model', 'MODEL', '--input', 'sample.csv', '-o', 'sample.csv'], /^error: sample\.csv already exists; choose another -o or add --force to replace it$/],
    ['an -o under a file', ['--model', 'MODEL', '--input', 'sample.csv', '-o', 'sample.csv/job.yaml'], /^error: cannot write sample\.csv\/job\.yaml: a parent of it is a file$/],
    ['a missing model', ['--model', 'nope.onnx', '--input', 'sample.csv'], /^error: model file not found: nope\.onnx$/],
    ['a file that is not a model', ['--model', 'sample.csv', '--input', 'sample.csv'], /^error: sample\.csv is not a valid ONNX model/],
    ['a missing sample', ['--model', 'MODEL', '--input', 'nope.csv'], /^error: sample file not found: nope\.csv$/],
    ['an empty sample', ['--model', 'MODEL', '--input', 'empty.csv'], /^error: empty\.csv: the input is empty: no header line/],
    ['a gzipped Parquet sample', ['--model', 'MODEL', '--input', 'sample.parquet.gz'], /^error: sample\.parquet\.gz: a gzipped Parquet file cannot be read or written: Parquet compresses inside the file \(gunzip it, or drop the \.gz\)$/],
    ['no --input', ['--model', 'MODEL'], /required option '--input <sample>' not specified/],
  ])('%s → exit 2, one line', async (_, args, message) => {
    const d = tempDir();
    writeFiles(d, { 'sample.csv': 'a,b,c\n1,2,3\n', 'empty.csv': '', 'sample.parquet.gz': 'not parquet' });
    const r = await runMain(['init', ...args.map((a) => (a === 'MODEL' ? model('linear_binary') : a)), '--log-format', 'text'], { cwd: d });
    expect(r.status).toBe(2);
    const lines = expectOneLineError(r.stderr);
    expect(lines.some((l) => message.test(l)), r.stderr).toBe(true);
    expect(readFileSync(path.join(d, 'sample.csv'), 'utf8')).toBe('a,b,c\n1,2,3\n');
  });
});
