// The kinds of models real exporters write, through the CLI's main() in this process — ZipMap classifiers,
// class labels, per-column inputs of every type, float64, fixed batches, and models that must be refused
// safely (those whose outputs would abort ONNX Runtime's process through the spawned CLI).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { cli, csvRows, expectOneLineError, listFiles, model, runMain, tempDir, writeFiles } from '../support/cli.js';
import { DT, externalInitializer, model as onnxModel, node, valueInfo } from '../../scripts/onnx-builder.js';
import { withFloatOutputs } from '../support/onnx.js';

const points = 'id,x1,x2\na,3,0\nb,0,3\nc,-2,-2\nd,0.2,0.1\ne,1,-1\n';
const pointRows = [[3, 0], [0, 3], [-2, -2], [0.2, 0.1], [1, -1]];

// The probabilities ONNX Runtime computes before the ZipMap, fetched from the unmodified graph.
async function behindZipMap(file: string, rows: number[][]): Promise<number[][]> {
  const s = await ort.InferenceSession.create(withFloatOutputs(readFileSync(file), ['probabilities']), { logSeverityLevel: 3 });
  const out = await s.run({ float_input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 2]) }, ['probabilities']);
  const p = Array.from(out.probabilities.data as Float32Array);
  const k = out.probabilities.dims[1];
  return rows.map((_, r) => p.slice(r * k, r * k + k));
}

// Write files, run `serve-batch <command> <dir>/job.yaml ...` (in this process, or spawned), return the result
// and the directory.
async function runJob(files: Record<string, string>, command = 'run', extra: string[] = [], o: { spawned?: boolean } = {}) {
  const d = tempDir();
  writeFiles(d, files);
  const args = [command, path.join(d, 'job.yaml'), '--log-format', 'text', ...extra];
  const r = o.spawned ? cli(args, { cwd: d }) : { ...(await runMain(args, { cwd: d })), signal: null };
  const out = path.join(d, 'out.csv');
  return { r, d, rows: existsSync(out) ? csvRows(readFileSync(out, 'utf8')) : undefined };
}

describe('ZipMap classifiers (skl2onnx defaults)', () => {
  it.each([
    ['zipmap_int', ['0', '1', '2']],
    ['zipmap_string', ['setosa', 'versicolor', 'virginica']],
  ])('%s: every output by default, probabilities equal to the tensor behind ZipMap', async (name, classes) => {
    const { r, rows } = await runJob({
      'in.csv': points,
      'job.yaml': `model: ${model(name)}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\npassthrough: [id]\noutput: { path: out.csv, float_precision: 9 }\n`,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(rows?.[0]).toEqual(['id', 'output_label', ...classes.map((c) => `output_probability_${c}`)]);
    const expected = await behindZipMap(model(name), pointRows);
    rows?.slice(1).forEach((row, i) => {
      const p = row.slice(2).map(Number);
      p.forEach((v, k) => expect(Math.abs(v - expected[i][k])).toBeLessThan(1e-8));
      expect(row[1]).toBe(classes[p.indexOf(Math.max(...p))]);
    });
  });

  it('classes 3, 5, 7: labels map class values (not positions), probabilities and thresholds use the classes', async () => {
    const { r, rows } = await runJob({
      'in.csv': 'id,petal length,petal width\na,1,0\nb,0,2\nc,-1,-1\nd,3,3\n',
      'job.yaml': [
        `model: ${model('classes_357')}`,
        'input: in.csv',
        "features: { columns: ['petal length', 'petal width'] }",
        'passthrough: [id]',
        'predictions:',
        '  - { output: output_label, column: class }',
        '  - { output: output_label, column: name, labels: [three, five, seven] }',
        '  - { output: output_probability, column: p }',
        '  - { threshold: { output: output_probability, class: 5, at: 0.3, column: maybe5 } }',
        'output: out.csv',
      ].join('\n'),
    });
    expect(r.status, r.stderr).toBe(0);
    expect(rows).toEqual([
      ['id', 'class', 'name', 'p_3', 'p_5', 'p_7', 'maybe5'],
      ['a', '3', 'three', '0.487372', '0.179294', '0.333333', '0'],
      ['b', '5', 'five', '0.189572', '0.620857', '0.189572', '1'],
      ['c', '7', 'seven', '0.0316172', '0.333333', '0.635049', '1'],
      ['d', '3', 'three', '0.662205', '0.333333', '0.00446194', '1'],
    ]);
    const expected = await behindZipMap(model('classes_357'), [[1, 0], [0, 2], [-1, -1], [3, 3]]);
    rows?.slice(1).forEach((row, i) => row.slice(3, 6).forEach((v, k) => expect(Number(v)).toBeCloseTo(expected[i][k], 6)));
  });

  it('refuses labels on a label output that already holds class names (exit 2, one line)', async () => {
    const { r, d } = await runJob({
      'in.csv': points,
      'job.yaml': `model: ${model('zipmap_string')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\npredictions: [{ output: output_label, labels: [a, b, c] }]\noutput: out.csv\n`,
    });
    expect(r.status).toBe(2);
    expect(expectOneLineError(r.stderr).join('\n')).toContain("output 'output_label' already holds class names (strings); remove labels (at predictions.0.labels)");
    expect(existsSync(path.join(d, 'out.csv'))).toBe(false);
  });

  it('inspect shows the ZipMap classes and the classes behind the label output', async () => {
    const r = await runMain(['inspect', model('classes_357')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('output_probability  sequence(map(int64, float32))  ZipMap: read as float32 [N, 3], classes 3, 5, 7\n');
    expect(r.stdout).toContain('class labels of output_label: 3, 5, 7\n');
    expect(JSON.parse((await runMain(['inspect', model('classes_357'), '--json'])).stdout).classLabels).toEqual({ output_label: [3, 5, 7] });
  });
});

describe('outputs onnxruntime-node cannot return are refused before any session.run', () => {
  const int4Job = (predictions = '') => `model: ${model('int4_output')}\ninput: in.csv\nfeatures: { columns: [a, b] }\n${predictions}output: out.csv\n`;

  it.each([
    ['run', '', /model output 'q' has element type int4, which onnxruntime-node cannot return \(fetching it aborts the process\); list the outputs to write, e\.g\. predictions: \[y\] \(at predictions\)/],
    ['validate', '', /model output 'q' has element type int4/],
    ['run', 'predictions: [q]\n', /output 'q' has element type int4, .*leave it out of predictions \(at predictions\.0\.output\)/],
    ['validate', 'predictions: [y, q]\n', /output 'q' has element type int4, .*\(at predictions\.1\.output\)/],
  ])('int4 output: %s %j → exit 2, no crash, nothing written', async (command, predictions, message) => {
    // Spawned: fetching an int4 output aborts the process, which only a process of its own can show.
    const { r, d } = await runJob({ 'in.csv': 'a,b\n1,2\n', 'job.yaml': int4Job(predictions) }, command, [], { spawned: true });
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(2);
    expect(expectOneLineError(r.stderr).some((l) => message.test(l)), r.stderr).toBe(true);
    expect(listFiles(d).filter((f) => !f.startsWith('.serve-batch/runs/'))).toEqual(['in.csv', 'job.yaml']);
  });

  it('int4 model: the other outputs score when predictions leave q out', async () => {
    const { r, rows } = await runJob({ 'in.csv': 'a,b\n1.5,-2\n', 'job.yaml': int4Job('predictions: [y]\n') });
    expect(r.status, r.stderr).toBe(0);
    expect(rows).toEqual([['y_0', 'y_1'], ['1.5', '-2']]);
  });

  it('a sequence output is left out by default with a warning, and refused when named', async () => {
    const job = (p: string) => `model: ${model('sequence_output')}\ninput: in.csv\nfeatures: { columns: [a, b] }\n${p}output: out.csv\n`;
    const ok = await runJob({ 'in.csv': 'a,b\n1,2\n', 'job.yaml': job('') });
    expect(ok.r.status, ok.r.stderr).toBe(0);
    expect(ok.r.stderr).toContain("warning: model output 'seq' is a sequence(float32), which onnxruntime-node cannot return: it is left out of the results");
    expect(ok.rows).toEqual([['y_0', 'y_1'], ['1', '2']]);
    const named = await runJob({ 'in.csv': 'a,b\n1,2\n', 'job.yaml': job('predictions: [seq]\n') }, 'validate');
    expect(named.r.status).toBe(2);
    expect(expectOneLineError(named.r.stderr).join('\n')).toContain("output 'seq' is a sequence(float32), which onnxruntime-node cannot return; write a tensor output instead, or re-export the model with this output as a tensor (at predictions.0.output)");
  });
});

describe('inputs', () => {
  it('per-column string, int64, float, double and bool inputs, each with the missing policy of its type', async () => {
    const { r, rows, d } = await runJob({
      'in.csv': 'id,s,i,f,d,b\n1,a,3,0.5,0.1,true\n2,,-4,,,no\n3,zzz,,1,2,1\n4,b,9007199254740993,NA,1e300,N\n',
      'job.yaml': [
        `model: ${model('per_column_types')}`,
        'input: in.csv',
        'features:',
        '  inputs: [s, i, f, d, b]',
        '  missing: { default: nan }',
        'passthrough: [id]',
        'output: { path: out.csv, float_precision: 17 }',
        'errors: { max_rejected: 1, rejects: rejects.csv }',
      ].join('\n'),
    });
    expect(r.status, r.stderr).toBe(0);
    // i_out = 2i, f_out = f + 1, d_out = 3d, b_out = b, s_out = (a 1, b 2, else 0); NaN is an empty cell.
    expect(rows).toEqual([
      ['id', 'i_out', 'f_out', 'd_out', 'b_out', 's_out'],
      ['1', '6', '1.5', String(0.1 * 3), '1', '1'],
      ['2', '-8', '', '', '0', '0'],
      ['4', '18014398509481986', '', '3e+300', '0', '2'],
    ]);
    const rejects = csvRows(readFileSync(path.join(d, 'rejects.csv'), 'utf8'));
    expect(rejects[1].slice(1, 3)).toEqual(['4', "column 'i': empty value; an int64 input cannot hold NaN, so the row is rejected (set features.missing for 'i' to a number to fill it)"]);
  });

  it('float64 models keep double precision end to end', async () => {
    const { r, rows } = await runJob({
      'in.csv': 'x1,x2\n0.1,0.2\n123456789.123456789,1e-9\n',
      'job.yaml': `model: ${model('float64_regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: { path: out.csv, float_precision: 17 }\n`,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(rows).toEqual([['variable'], [String(0.1 * 0.25 + 0.2 * 4 - 1)], [String(123456789.123456789 * 0.25 + 1e-9 * 4 - 1)]]);
  });

  it('validate warns why a fixed [1, F] model is slow, and still passes', async () => {
    const { r } = await runJob({ 'in.csv': 'a,b,c\n1,1,1\n', 'job.yaml': `model: ${model('fixed_batch')}\ninput: in.csv\nfeatures: { columns: [a, b, c] }\noutput: out.csv\n` }, 'validate');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("warning: job.yaml: model input 'input' has a fixed batch dimension of 1: rows are scored 1 at a time, which is much slower than a dynamic batch; re-export with a dynamic first dimension");
    expect(r.stdout).toMatch(/^ok: .*result columns variable; first 1 row /);
  });

  it.each([2, 1])('a model that needs 20 features, given %i, is refused by run before any data is read (exit 2)', async (n) => {
    const columns = ['a', 'b'].slice(0, n);
    const { r, d } = await runJob({ 'in.csv': 'a,b\n1,2\n', 'job.yaml': `model: ${model('needs20')}\ninput: in.csv\nfeatures: { columns: [${columns}] }\noutput: out.csv\n` }, 'run', ['--json']);
    expect(r.status).toBe(2);
    const rec = JSON.parse(r.stdout);
    expect(rec).toMatchObject({ status: 'invalid', exit_code: 2, inputs: [] });
    expect(rec.error).toBe(`the model refuses the features it is given: One path in the graph requests feature 19 but input tensor has ${n} features — the model needs at least 20 features, features.columns lists ${n} (at features.columns)`);
    expect(existsSync(path.join(d, 'out.csv'))).toBe(false);
  });
});

describe('model files', () => {
  // A job over a model at `modelPath` (the external_data fixture's shape: two float columns).
  const linearJob = (modelPath: string, extra = '') => `model: ${modelPath}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: { path: out.csv, float_precision: 9 }\nstate_dir: state\n${extra}`;

  it('a model path that is not a regular file (a character device, a FIFO, a directory) is refused at once: exit 2, one line', () => {
    const d = tempDir();
    execFileSync('mkfifo', [path.join(d, 'model.fifo')]);
    for (const [file, kind] of [['/dev/zero', 'a character device'], [path.join(d, 'model.fifo'), 'a FIFO'], [d, 'a directory']]) {
      writeFiles(d, { 'in.csv': 'x1,x2\n1,2\n', 'job.yaml': linearJob(file) });
      for (const args of [['validate', path.join(d, 'job.yaml')], ['run', path.join(d, 'job.yaml')], ['inspect', file]]) {
        const r = cli([...args, '--log-format', 'text'], { cwd: d });
        expect(r.status, `${args[0]} ${file}: ${r.stderr}`).toBe(2);
        const lines = expectOneLineError(r.stderr);
        expect(lines.some((l) => l.includes(`cannot read model ${file}: it is ${kind}, not a file; give the path of an .onnx file`)), r.stderr).toBe(true);
      }
    }
  });

  it('a model on a kernel file system (/proc) or an empty model file is refused before it is read: exit 2, one line', async () => {
    // /proc files say size 0 and read on (/proc/self/pagemap reads gigabytes); /proc/self/status is the
    // harmless one of them, refused by the same check.
    const d = tempDir();
    writeFiles(d, { 'empty.onnx': '' });
    const cases = [
      ['/proc/self/status', "it is on the kernel's process file system (procfs), whose files are kernel interfaces, not stored files"],
      [path.join(d, 'empty.onnx'), 'it is empty'],
    ];
    for (const [file, why] of cases) {
      writeFiles(d, { 'in.csv': 'x1,x2\n1,2\n', 'job.yaml': linearJob(file) });
      for (const args of [['validate', path.join(d, 'job.yaml')], ['run', path.join(d, 'job.yaml')], ['inspect', file]]) {
        const r = await runMain([...args, '--log-format', 'text'], { cwd: d });
        expect(r.status, `${args[0]} ${file}: ${r.stderr}`).toBe(2);
        const lines = expectOneLineError(r.stderr);
        expect(lines.some((l) => l.includes(`cannot read model ${file}: ${why}; give the path of an .onnx file`)), r.stderr).toBe(true);
      }
    }
  });

  it('an empty external data file is refused, naming the tensor and the file: exit 2', async () => {
    const d = tempDir();
    writeFiles(d, { 'm/e.onnx': readFileSync(model('external_data')), 'm/external_data.bin': '', 'in.csv': 'x1,x2\n1,1\n', 'job.yaml': linearJob('m/e.onnx') });
    const r = await runMain(['validate', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`tensor 'W' keeps its values in 'external_data.bin', which cannot be read (${path.join(d, 'm/external_data.bin')}): it is empty`);
  });

  it('external data is read beside the model, from any working directory, at every optimization level', () => {
    const d = tempDir();
    writeFiles(d, {
      'models/external_data.onnx': readFileSync(model('external_data')),
      'models/external_data.bin': readFileSync(path.join(path.dirname(model('external_data')), 'external_data.bin')),
      'in.csv': 'x1,x2\n1,1\n2,0\n0,-2\n',
    });
    for (const optimization of ['all', 'basic', 'disabled']) {
      writeFiles(d, { 'job.yaml': linearJob(`{ path: models/external_data.onnx, optimization: ${optimization} }`) });
      const r = cli(['run', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: tempDir() });
      expect(r.status, `${optimization}: ${r.stderr}`).toBe(0);
      expect(csvRows(readFileSync(path.join(d, 'out.csv'), 'utf8'))).toEqual([['variable'], ['-0.25'], ['2'], ['3.5']]);
    }
  });

  it("the model's sha256 covers its data file: new weights beside the same .onnx are another model", () => {
    const d = tempDir();
    const bin = path.join(path.dirname(model('external_data')), 'external_data.bin');
    writeFiles(d, { 'm/e.onnx': readFileSync(model('external_data')), 'm/external_data.bin': readFileSync(bin), 'in.csv': 'x1,x2\n1,1\n', 'job.yaml': linearJob('m/e.onnx') });
    const first = JSON.parse(cli(['run', path.join(d, 'job.yaml'), '--json'], { cwd: d }).stdout);
    const weights = Buffer.from(readFileSync(bin));
    weights.writeFloatLE(2, 8); // b = 2 instead of 0.5
    writeFiles(d, { 'm/external_data.bin': weights });
    const second = JSON.parse(cli(['run', path.join(d, 'job.yaml'), '--json'], { cwd: d }).stdout);
    expect(second.model.sha256).not.toBe(first.model.sha256);
    expect(csvRows(readFileSync(path.join(d, 'out.csv'), 'utf8'))).toEqual([['variable'], ['1.25']]);
  });

  it.each([
    ['../weights.bin', "'../weights.bin'"],
    ['/tmp/weights.bin', "'/tmp/weights.bin'"],
    ['sub/../../weights.bin', "'sub/../../weights.bin'"],
  ])("a data file outside the model's folder (%s) is refused before anything is read: exit 2, one line", (location, shown) => {
    const d = tempDir();
    const w = externalInitializer('W', [1, 2], [2, 1], location);
    const bytes = onnxModel({ graphName: 'outside', inputs: [valueInfo('input', DT.FLOAT, ['N', 2])], outputs: [valueInfo('variable', DT.FLOAT, ['N', 1])], initializers: [w.tensor], nodes: [node('MatMul', ['input', 'W'], ['variable'])] });
    writeFiles(d, { 'models/outside.onnx': Buffer.from(bytes), 'weights.bin': Buffer.from(w.bytes), 'in.csv': 'x1,x2\n1,1\n', 'job.yaml': linearJob('models/outside.onnx') });
    for (const command of ['validate', 'run']) {
      const r = cli([command, path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
      expect(r.status, r.stderr).toBe(2);
      const lines = expectOneLineError(r.stderr);
      expect(lines.some((l) => l.includes(`${path.join(d, 'models/outside.onnx')}: tensor 'W' keeps its values in ${shown}, outside the model's folder`)), r.stderr).toBe(true);
    }
    expect(existsSync(path.join(d, 'out.csv'))).toBe(false);
  });

  it("a data file reached through a symbolic link out of the model's folder (the file, or a folder on the way) is refused: exit 2", async () => {
    const d = tempDir();
    const bin = readFileSync(path.join(path.dirname(model('external_data')), 'external_data.bin'));
    const w = externalInitializer('W', [1, 2], [2, 1], 'sub/weights.bin');
    const viaFolder = onnxModel({ graphName: 'via', inputs: [valueInfo('input', DT.FLOAT, ['N', 2])], outputs: [valueInfo('variable', DT.FLOAT, ['N', 1])], initializers: [w.tensor], nodes: [node('MatMul', ['input', 'W'], ['variable'])] });
    writeFiles(d, { 'outside/weights.bin': Buffer.from(w.bytes), 'outside/external_data.bin': bin, 'a/e.onnx': readFileSync(model('external_data')), 'b/via.onnx': Buffer.from(viaFolder), 'in.csv': 'x1,x2\n1,1\n' });
    symlinkSync(path.join(d, 'outside/external_data.bin'), path.join(d, 'a/external_data.bin'));
    symlinkSync('../outside', path.join(d, 'b/sub'));
    for (const [file, tensor, location, real] of [['a/e.onnx', 'W', 'external_data.bin', 'outside/external_data.bin'], ['b/via.onnx', 'W', 'sub/weights.bin', 'outside/weights.bin']]) {
      writeFiles(d, { 'job.yaml': linearJob(file) });
      for (const command of ['validate', 'run']) {
        const r = await runMain([command, path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
        expect(r.status, r.stderr).toBe(2);
        const lines = expectOneLineError(r.stderr);
        expect(lines.some((l) => l.includes(`${file}: tensor '${tensor}' keeps its values in '${location}', a symbolic link to ${path.join(realpathSync(d), real)}, outside the model's folder`)), r.stderr).toBe(true);
      }
    }
    expect(existsSync(path.join(d, 'out.csv'))).toBe(false);
  });

  it('a missing data file is named, with where it was looked for (exit 2)', () => {
    const d = tempDir();
    writeFiles(d, { 'm/e.onnx': readFileSync(model('external_data')), 'in.csv': 'x1,x2\n1,1\n', 'job.yaml': linearJob('m/e.onnx') });
    const r = cli(['validate', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`tensor 'W' keeps its values in 'external_data.bin', which is not there (${path.join(d, 'm/external_data.bin')}); copy it beside the model`);
  });
});
