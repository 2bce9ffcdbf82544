// Compatibility test: the real scikit-learn/XGBoost/LightGBM exports in ../shared/compat (next to the
// repository, see its README) scored through job files by the CLI's main() in this process. Runs whenever that
// folder exists (`npm test`); without it the suite says so and skips. SERVE_BATCH_COMPAT names the folder
// instead, and then it must exist: CI names ../shared/compat (.ci/run), so CI never skips these tests.
// Run it alone with `npx vitest run test/compat`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { csvRows, expectOneLineError, ROOT, runMain, tempDir, writeFiles } from '../support/cli.js';
import { withFloatOutputs, zipMapInputs } from '../support/onnx.js';

const COMPAT = process.env.SERVE_BATCH_COMPAT ? path.resolve(process.env.SERVE_BATCH_COMPAT) : path.resolve(ROOT, '../shared/compat');
const present = existsSync(path.join(COMPAT, 'README.md'));
const file = (name: string) => path.join(COMPAT, name);

if (!present) console.warn(`compat: ${COMPAT} not found; the compatibility tests over real exports are skipped`);

const IRIS = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];

// Run a job (YAML text) in a temp dir; return the CLI result and the result rows as objects.
async function score(yaml: string, extra: Record<string, string> = {}) {
  const d = tempDir();
  writeFiles(d, { 'job.yaml': yaml, ...extra });
  const r = await runMain(['run', path.join(d, 'job.yaml'), '--json', '--log-format', 'text'], { cwd: d });
  const out = path.join(d, 'out.csv');
  const table = existsSync(out) ? csvRows(readFileSync(out, 'utf8')) : [];
  const rows = table.slice(1).map((row) => Object.fromEntries(table[0].map((h, i) => [h, row[i]])));
  return { r, header: table[0], rows, record: r.stdout ? JSON.parse(r.stdout) : undefined };
}

// The CSV as rows of fields (header first).
const csv = (name: string) => csvRows(readFileSync(file(name), 'utf8'));

// ONNX Runtime on the unmodified graph, with the tensor behind each ZipMap added as an output, on one thread as
// serve-batch runs a tree ensemble (on more, ONNX Runtime adds the trees up in another order: other last bits).
async function reference(modelFile: string, feeds: Record<string, ort.Tensor>, fetch: string[]) {
  const bytes = readFileSync(file(modelFile));
  const behind = zipMapInputs(bytes);
  const s = await ort.InferenceSession.create(withFloatOutputs(bytes, behind), { logSeverityLevel: 3, intraOpNumThreads: 1 });
  const out = await s.run(feeds, [...fetch, ...behind]);
  return { out, probabilities: behind.length ? out[behind[0]] : undefined };
}

// Row r of an [N, K] float tensor.
const rowOf = (t: ort.Tensor, r: number) => Array.from(t.data as Float32Array).slice(r * t.dims[1], (r + 1) * t.dims[1]);

describe.skipIf(!present)(`compat exports in ${COMPAT}`, () => {
  it('rf_iris: accuracy ≥ 0.98 on iris.csv, p_0..p_2 equal to the tensor behind its ZipMap', async () => {
    const { r, header, rows, record } = await score(
      [`model: ${file('rf_iris.onnx')}`, `input: ${file('iris.csv')}`, 'features:', `  columns: ${JSON.stringify(IRIS)}`, 'passthrough: [target]',
        'predictions:', '  - { output: output_label, column: label }', '  - { output: output_probability, column: p }', 'output: { path: out.csv, float_precision: 9 }'].join('\n'),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(header).toEqual(['target', 'label', 'p_0', 'p_1', 'p_2']);
    expect(record.totals).toMatchObject({ rows_in: 150, rows_out: 150, rows_rejected: 0 });
    const accuracy = rows.filter((x) => x.target === x.label).length / rows.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.98);
    const data = csv('iris.csv').slice(1);
    const x = new ort.Tensor('float32', Float32Array.from(data.flatMap((d) => d.slice(0, 4).map(Number))), [data.length, 4]);
    const ref = await reference('rf_iris.onnx', { float_input: x }, ['output_label']);
    rows.forEach((row, i) => {
      expect(row.label).toBe(String(ref.out.output_label.data[i]));
      rowOf(ref.probabilities as ort.Tensor, i).forEach((p, k) => expect(Math.abs(Number(row[`p_${k}`]) - p)).toBeLessThan(1e-7));
    });
  });

  it.each([
    ['logreg_iris.onnx', 'X'],
    ['pipeline_xgboost.onnx', 'input'],
    ['pipeline_lightgbm.onnx', 'input'],
  ])('%s: scores iris.csv (first 2 columns) with every output by default, as ONNX Runtime computes it', async (modelFile, inputName) => {
    const { r, header, rows } = await score([`model: ${file(modelFile)}`, `input: ${file('iris.csv')}`, `features: { columns: ${JSON.stringify(IRIS.slice(0, 2))} }`, 'output: { path: out.csv, float_precision: 9 }'].join('\n'));
    expect(r.status, r.stderr).toBe(0);
    expect(header).toEqual(['output_label', 'output_probability_0', 'output_probability_1', 'output_probability_2']);
    const data = csv('iris.csv').slice(1);
    const x = new ort.Tensor('float32', Float32Array.from(data.flatMap((d) => d.slice(0, 2).map(Number))), [data.length, 2]);
    const ref = await reference(modelFile, { [inputName]: x }, ['output_label']);
    expect(rows).toHaveLength(150);
    rows.forEach((row, i) => {
      expect(row.output_label).toBe(String(ref.out.output_label.data[i]));
      rowOf(ref.probabilities as ort.Tensor, i).forEach((p, k) => expect(Math.abs(Number(row[`output_probability_${k}`]) - p)).toBeLessThan(1e-7));
    });
  });

  describe.each([
    ['pipeline_titanic.onnx', 'string', ['output_label', 'output_probability_0', 'output_probability_1'], 'output_label'],
    ['pipeline_titanic_nozipmap.onnx', 'int64', ['label', 'probabilities_0', 'probabilities_1'], 'label'],
  ])('%s (pclass %s): one input per column, empty ages fed as NaN', (modelFile, pclassType, columns, labelOutput) => {
    const job = (input: string) =>
      [`model: ${file(modelFile)}`, `input: ${input}`, 'features:', '  inputs: [pclass, sex, age, fare, embarked]', '  missing: { default: reject, age: nan }',
        'passthrough: [name, age]', 'output: { path: out.csv, float_precision: 9 }'].join('\n');

    it('scores small_titanic.csv as ONNX Runtime does on the same values', async () => {
      const { r, header, rows, record } = await score(job(file('small_titanic.csv')));
      expect(r.status, r.stderr).toBe(0);
      expect(header).toEqual(['name', 'age', ...columns]);
      expect(record.totals).toMatchObject({ rows_in: 38, rows_out: 38, rows_rejected: 0 });
      expect(rows[0].name).toBe('Allen, Miss. Elisabeth Walton');
      expect(rows.filter((x) => x.age === '')).toHaveLength(2);
      const [h, ...data] = csv('small_titanic.csv');
      const col = (name: string) => data.map((d) => d[h.indexOf(name)]);
      const n = data.length;
      const floats = (name: string) => new ort.Tensor('float32', Float32Array.from(col(name), (v) => (v === '' ? NaN : Number(v))), [n, 1]);
      const strings = (name: string) => new ort.Tensor('string', col(name), [n, 1]);
      const feeds = {
        pclass: pclassType === 'string' ? strings('pclass') : new ort.Tensor('int64', BigInt64Array.from(col('pclass'), BigInt), [n, 1]),
        sex: strings('sex'),
        age: floats('age'),
        fare: floats('fare'),
        embarked: strings('embarked'),
      };
      const ref = await reference(modelFile, feeds, labelOutput === 'label' ? ['label', 'probabilities'] : [labelOutput]);
      const probs = ref.probabilities ?? ref.out.probabilities;
      rows.forEach((row, i) => {
        expect(row[columns[0]]).toBe(String(ref.out[labelOutput].data[i]));
        rowOf(probs, i).forEach((p, k) => {
          expect(Number.isFinite(Number(row[columns[1 + k]]))).toBe(true);
          expect(Math.abs(Number(row[columns[1 + k]]) - p)).toBeLessThan(1e-7);
        });
      });
    });

    it('an empty age scores as the age the pipeline imputes (28), so NaN reached its imputer', async () => {
      const text = readFileSync(file('small_titanic.csv'), 'utf8');
      const [h, ...data] = csvRows(text);
      const age = h.indexOf('age');
      const filled = [h, ...data.map((d) => d.map((v, i) => (i === age && v === '' ? '28' : v)))].map((d) => d.map((v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(',')).join('\n');
      const empty = await score(job(file('small_titanic.csv')));
      const imputed = await score(job('filled.csv'), { 'filled.csv': `${filled}\n` });
      expect(imputed.r.status, imputed.r.stderr).toBe(0);
      const strip = (rows: Record<string, string>[]) => rows.map(({ age: _age, ...rest }) => rest);
      expect(strip(empty.rows)).toEqual(strip(imputed.rows));
    });
  });

  it('treecl: 2 features are refused by validate with exit 2, naming the count it needs', async () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': [`model: ${file('treecl.onnx')}`, `input: ${file('iris.csv')}`, `features: { columns: ${JSON.stringify(IRIS.slice(0, 2))} }`, 'output: out.csv'].join('\n') });
    const r = await runMain(['validate', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(r.status).toBe(2);
    const lines = expectOneLineError(r.stderr);
    expect(lines.join('\n')).toMatch(/requests feature 19 but input tensor has 2 features — the model needs at least 20 features, features\.columns lists 2/);
    expect(existsSync(path.join(d, 'out.csv'))).toBe(false);
  });

  it.each([
    ['rf_iris.onnx', 'iris.csv', 0],
    ['logreg_iris.onnx', 'iris.csv', 0],
    ['pipeline_titanic.onnx', 'small_titanic.csv', 0],
    ['pipeline_titanic_nozipmap.onnx', 'small_titanic.csv', 0],
    ['treecl.onnx', 'iris.csv', 2],
  ])('init %s + %s writes a job that validate answers with exit %i', async (modelFile, data, exit) => {
    const d = tempDir();
    const made = await runMain(['init', '--model', file(modelFile), '--input', file(data), '-o', path.join(d, 'job.yaml'), '--log-format', 'text']);
    expect(made.status, made.stderr).toBe(0);
    const v = await runMain(['validate', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(v.status, v.stderr).toBe(exit);
  });
});

// A folder named on purpose must be there: a CI that lost it fails instead of skipping the suite.
it.runIf(process.env.SERVE_BATCH_COMPAT !== undefined)(`SERVE_BATCH_COMPAT names a folder of exports (${COMPAT})`, () => {
  expect(present, `${path.join(COMPAT, 'README.md')} not found`).toBe(true);
});
