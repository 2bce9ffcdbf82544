// Starter jobs: model inputs matched to a sample's header, guesses said out loud, YAML that loads.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SbError } from '../../src/errors.js';
import { matchColumn, modelSnippet, starterJob, yamlString } from '../../src/run/init.js';
import { loadJob, parseJob } from '../../src/job/load.js';
import { readModelInfo, type ModelInfo } from '../../src/model/model-info.js';
import { runJob } from '../../src/run/run-job.js';
import { model, tempDir } from '../support/cli.js';

const info = (name: string) => readModelInfo(readFileSync(model(name)));
const starter = (m: ModelInfo, header: string[], rows: string[][] = []) => starterJob(m, { modelPath: 'm.onnx', inputPath: 'in.csv', sample: { header, rows } });
// The starter loads as a job file (schema, templates): what `validate` checks first.
const load = (yaml: string) => parseJob(yaml, '/tmp/init-test/job.yaml');

describe('matchColumn', () => {
  it('matches exactly, then ignoring case and punctuation, and never guesses between two', () => {
    expect(matchColumn('age', ['Age', 'age'])).toEqual({ column: 'age', loose: false });
    expect(matchColumn('age', ['AGE', 'x'])).toEqual({ column: 'AGE', loose: true });
    expect(matchColumn('home_dest', ['home.dest'])).toEqual({ column: 'home.dest', loose: true });
    expect(matchColumn('petal length', ['Petal_Length'])).toEqual({ column: 'Petal_Length', loose: true });
    expect(matchColumn('ab', ['a_b', 'a.b'])).toBeUndefined();
    expect(matchColumn('ab', ['a_b', 'AB'])).toEqual({ column: 'AB', loose: true });
    expect(matchColumn('x', ['y', '__'])).toBeUndefined();
  });
});

describe('yamlString', () => {
  it.each(['plain', 'sepal length (cm)', "it's", 'yes', 'null', '1', '{input_stem}', '#hash', 'a: b', '- x', '', 'y', '.inf', '.NaN', '../m.onnx', '/abs/m.onnx', '.', 'a/b-c.d'])('%j reads back as itself', (s) => {
    expect(parse(`k: ${yamlString(s)}`)).toEqual({ k: s });
    expect(parse(`k: [${yamlString(s)}, z]`)).toEqual({ k: [s, 'z'] });
  });
});

describe('starterJob', () => {
  it('maps one input per column by name, loosely when it must, and says so', () => {
    const job = starter(info('per_column'), ['id', 'City', 'age', 'n_visits'], [['1', 'Paris', '30', '2']]);
    expect(job.unmatched).toEqual(["model input 'visits'"]);
    expect(job.notes).toEqual(["model input 'city' matched column 'City' ignoring case and punctuation"]);
    expect(job.yaml).toContain("    city: City   # CHECK: matched ignoring case/punctuation; string [N, 1]\n");
    expect(job.yaml).toContain('    visits: visits   # CHECK: no column of the sample matches; int64 [N, 1]\n');
    expect(job.yaml).toContain('# passthrough: [id, n_visits]');
    const j = load(job.yaml);
    expect(j.features).toEqual({ mode: 'inputs', inputs: [{ input: 'city', column: 'City' }, { input: 'age', column: 'age' }, { input: 'visits', column: 'visits' }] });
    expect(j.predictions).toEqual([{ kind: 'output', output: 'score', column: 'score', labels: undefined }]);
  });

  it('feeds NaN for float columns with empty cells and notes integer and string ones', () => {
    const rows = [['Paris', '', ''], ['NA', '3', '1']];
    const job = starter(info('per_column'), ['city', 'age', 'visits'], rows);
    const j = load(job.yaml);
    expect(j.missing.default).toEqual({ kind: 'reject' });
    expect([...j.missing.byColumn]).toEqual([['age', { kind: 'nan' }]]);
    expect(job.notes).toEqual([
      "column 'city' has 1 empty cell in the sample; it feeds a string input, so missing cells are rejected (nan feeds them as empty text; set features.missing for it to a number to fill them)",
      "column 'visits' has 1 empty cell in the sample; it feeds an int64 input, so missing cells are rejected (they cannot be NaN; set features.missing for it to a number to fill them)",
      'features.missing: NaN for age (empty cells in the sample); right for a pipeline that imputes, wrong for a model that does not',
    ]);
  });

  it('uses feature names from the model metadata, matched to the header', () => {
    const job = starter(info('classes_357'), ['id', 'Petal_Length', 'petal width'], [['a', '1', '2']]);
    expect(job.unmatched).toEqual([]);
    expect(load(job.yaml).features).toEqual({ mode: 'columns', input: undefined, columns: ['Petal_Length', 'petal width'] });
    expect(job.yaml).toContain('# passthrough: [id]');
    expect(job.yaml).toContain('column: output_probability   # ZipMap probabilities: one column per class, output_probability_3, output_probability_5, output_probability_7');
  });

  it('without names, guesses the first F numeric columns and says it guessed', () => {
    const job = starter(info('multiclass'), ['name', 'a', 'b', 'c', 'd', 'e'], [['x', '1', '2', '3', '4', '5']]);
    expect(load(job.yaml).features).toMatchObject({ columns: ['a', 'b', 'c', 'd'] });
    expect(job.yaml).toMatch(/columns: \[a, b, c, d\] {3}# CHECK: guessed/);
    expect(job.notes[0]).toBe("features.columns: the model does not name its 4 features; took the first 4 numeric columns of the sample (a, b, c, d): check they are the model's features, in training order");
    const short = starter(info('multiclass'), ['a', 'b', 'name'], [['1', '2', 'x']]);
    expect(short.unmatched).toEqual(["feature 2 of input 'input'", "feature 3 of input 'input'"]);
    expect(load(short.yaml).features).toMatchObject({ columns: ['a', 'b', 'f2', 'f3'] });
  });

  it('feeds a single [N, 1] input from the column of its name', () => {
    const m: ModelInfo = { ...info('regressor'), inputs: [{ name: 'age', type: { kind: 'tensor', elemType: 'float32', dims: ['N', 1] } }] };
    const job = starter(m, ['id', 'Age', 'x'], [['1', '30', '2']]);
    expect(load(job.yaml).features).toMatchObject({ mode: 'columns', columns: ['Age'] });
    expect(job.notes).toEqual(["feature 'age' matched column 'Age' ignoring case and punctuation"]);
    expect(job.unmatched).toEqual([]);
  });

  it('comments out outputs onnxruntime-node cannot return', () => {
    const job = starter(info('int4_output'), ['a', 'b'], [['1', '2']]);
    expect(job.yaml).toContain('  # - output: q   # int4 [N, 2]: onnxruntime-node cannot return it\n');
    expect(load(job.yaml).predictions).toEqual([{ kind: 'output', output: 'y', column: 'y', labels: undefined }]);
  });

  it('names results after the job, so two jobs started from one sample do not overwrite each other', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'sample.csv'), 'x1,x2\n1,2\n3,4\n');
    const yaml = starterJob(info('regressor'), { modelPath: model('regressor'), inputPath: 'sample.csv', sample: { header: ['x1', 'x2'], rows: [['1', '2']] } }).yaml;
    expect(yaml).toContain("  path: 'out/{job}/{input_stem}.scored.csv'");
    expect(yaml).toContain("  rejects: 'out/{job}/{input_stem}.rejects.csv'");
    for (const name of ['churn', 'churn-v2']) {
      writeFileSync(path.join(d, `${name}.yaml`), yaml);
      const record = await runJob(loadJob(path.join(d, `${name}.yaml`)));
      expect(record.status, record.error ?? '').toBe('ok');
    }
    expect(readFileSync(path.join(d, 'out/churn/sample.scored.csv'), 'utf8')).toBe(readFileSync(path.join(d, 'out/churn-v2/sample.scored.csv'), 'utf8'));
  });

  it('refuses a model serve-batch cannot feed', () => {
    const m: ModelInfo = { ...info('per_column') };
    m.inputs = [...m.inputs, { name: 'wide', type: { kind: 'tensor', elemType: 'float32', dims: ['N', 5] } }];
    expect(() => starter(m, ['a'])).toThrow(SbError);
    expect(() => starter(m, ['a'])).toThrow("model input 'wide' is float32 [N, 5] next to other inputs; serve-batch feeds either one [N, F] input or one [N, 1] input per column");
  });
});

describe('modelSnippet (inspect)', () => {
  it.each(['linear_binary', 'per_column', 'classes_357', 'zipmap_string', 'int4_output', 'needs20', 'per_column_types', 'sequence_output'])('%s: a snippet that loads once pasted into a job', (name) => {
    const s = modelSnippet(info(name));
    const yaml = `model: m.onnx\ninput: in.csv\n${[...s.features, ...s.predictions].join('\n')}\noutput: out.csv\n`;
    expect(() => load(yaml)).not.toThrow();
  });

  it('lists placeholder columns for an unnamed [N, F] input', () => {
    expect(modelSnippet(info('linear_binary')).features[1]).toBe('  columns: [f0, f1, f2]   # input float32 [N, 3]: your 3 columns, in training order');
  });
});
