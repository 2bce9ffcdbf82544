import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_FLOAT_PRECISION } from '../../src/job/config.js';
import { loadJob, parseJob } from '../../src/job/load.js';
import { displayPath } from '../../src/util/display.js';

let root: string;
let jobsDir: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'sb-job-'));
  jobsDir = path.join(root, 'jobs');
  mkdirSync(jobsDir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MINIMAL = `model: ../models/m.onnx
input: ../data/*.csv
features: { columns: [a, b] }
output: ../out/{input_stem}.csv
`;

let counter = 0;
// Write `text` as a job file (a fresh name each time) and load it.
function jobFile(text: string, name?: string): string {
  const file = path.join(jobsDir, name ?? `job-${++counter}.yaml`);
  writeFileSync(file, text);
  return file;
}
const load = (text: string, env: NodeJS.ProcessEnv = {}, name?: string) => loadJob(jobFile(text, name), env);

// The JOB_INVALID error of a job text, with the file name as it appears in messages.
function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): { err: SbError; problems: string[]; shown: string } {
  const file = jobFile(text);
  try {
    loadJob(file, env);
  } catch (err) {
    expect(err).toBeInstanceOf(SbError);
    const e = err as SbError;
    expect(e.code).toBe('JOB_INVALID');
    const problems = e.context.problems ?? [];
    expect(e.message).toBe(`job file ${displayPath(file)} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
    return { err: e, problems, shown: displayPath(file) };
  }
  throw new Error('expected the job to be invalid');
}
const oneProblem = (text: string, env: NodeJS.ProcessEnv = {}) => {
  const r = problemsOf(text, env);
  expect(r.problems).toHaveLength(1);
  return { problem: r.problems[0], shown: r.shown };
};

const r = (...parts: string[]) => path.join(root, ...parts);

describe('loadJob: a minimal job and its defaults', () => {
  it('resolves paths relative to the job file and applies every default', () => {
    const file = jobFile(MINIMAL, 'nightly-churn.yaml');
    const job = loadJob(file, {});
    expect(job).toEqual({
      file,
      dir: jobsDir,
      name: 'nightly-churn',
      model: { path: r('models/m.onnx'), threads: undefined, interThreads: undefined, optimization: 'all' },
      input: {
        patterns: [r('data/*.csv')],
        format: undefined,
        csv: { delimiter: undefined, quote: '"', header: true, encoding: 'utf8', relaxQuotes: false },
        incremental: false,
      },
      features: { mode: 'columns', input: undefined, columns: ['a', 'b'] },
      missing: { default: { kind: 'reject' }, byColumn: new Map() },
      passthrough: [],
      predictions: undefined,
      batchSize: DEFAULT_BATCH_SIZE,
      output: { template: r('out/{input_stem}.csv'), format: undefined, floatPrecision: DEFAULT_FLOAT_PRECISION },
      errors: { maxRejected: { kind: 'count', count: 0 }, rejects: undefined },
      schedule: undefined,
      stateDir: path.join(jobsDir, '.serve-batch'),
      metricsFile: undefined,
      storage: {},
      profile: true,
      monitor: undefined,
    });
    expect(DEFAULT_BATCH_SIZE).toBe(8192);
    expect(DEFAULT_FLOAT_PRECISION).toBe(6);
  });

  it('paths do not depend on the working directory, and a relative job path works', () => {
    const file = jobFile(MINIMAL);
    const rel = displayPath(file);
    expect(loadJob(rel, {}).model.path).toBe(r('models/m.onnx'));
    expect(loadJob(rel, {}).file).toBe(file);
  });

  it('the default name drops .yaml / .yml (any case) but keeps other dots', () => {
    expect(load(MINIMAL, {}, 'a.yml').name).toBe('a');
    expect(load(MINIMAL, {}, 'b.YAML').name).toBe('b');
    expect(load(MINIMAL, {}, 'c.v2.yaml').name).toBe('c.v2');
  });

  it('an explicit name wins over the file name', () => {
    expect(load(`name: churn-nightly_2.x\n${MINIMAL}`).name).toBe('churn-nightly_2.x');
  });

  it('absolute paths stay as they are; "-" (stdin/stdout) is kept', () => {
    const job = load(`model: /abs/m.onnx\ninput: "-"\nfeatures: { columns: [a] }\noutput: "-"\n`);
    expect(job.model.path).toBe('/abs/m.onnx');
    expect(job.input.patterns).toEqual(['-']);
    expect(job.output.template).toBe('-');
  });

  it('accepts a job file with CRLF line ends and comments', () => {
    const job = load('# nightly\r\nmodel: m.onnx # the model\r\ninput: x.csv\r\nfeatures:\r\n  columns: [a]\r\noutput: o.csv\r\n');
    expect(job.model.path).toBe(path.join(jobsDir, 'm.onnx'));
    expect(job.features).toEqual({ mode: 'columns', input: undefined, columns: ['a'] });
  });
});

describe('loadJob: objects (s3:// URLs) and storage.s3', () => {
  it('s3:// URLs stay as they are wherever data goes, and storage.s3 takes its values from ${VAR}', () => {
    const job = load(
      'model: m.onnx\ninput: [s3://landing/in/*.csv, local/*.csv]\nfeatures: { columns: [a] }\noutput: s3://results/{date}/{input_stem}.csv\nerrors: { rejects: S3://results/rejects.csv }\nstorage: { s3: { endpoint: "${S3_URL}", region: "${S3_REGION:-eu-west-1}", force_path_style: "${PATH_STYLE}" } }\n',
      { S3_URL: 'http://127.0.0.1:9000', PATH_STYLE: 'false' },
    );
    expect([job.input.patterns, job.output.template, job.errors.rejects]).toEqual([['s3://landing/in/*.csv', path.join(jobsDir, 'local/*.csv')], 's3://results/{date}/{input_stem}.csv', 'S3://results/rejects.csv']);
    expect(job.storage).toEqual({ s3: { endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', forcePathStyle: false } });
  });

  it('an endpoint that is not an http(s) URL, or that holds a password, is refused without showing its value', () => {
    const text = 'model: m.onnx\ninput: s3://a/*.csv\nfeatures: { columns: [a] }\noutput: out.csv\nstorage: { s3: { endpoint: "${S3_URL}" } }\n';
    for (const value of ['ftp://store.example', 'https://user:hunter2@store.example', 'store.example:9000']) {
      const { problem } = oneProblem(text, { S3_URL: value });
      expect(problem).toMatch(/\(at storage\.s3\.endpoint\)$/);
      expect(problem).not.toContain('hunter2');
      expect(problem).not.toContain('store.example');
    }
    expect(oneProblem(text.replace('endpoint', 'endpiont'), { S3_URL: 'http://x' }).problem).toMatch(/unknown key 'endpiont'.*did you mean 'endpoint'/);
  });

  it('the model, state_dir and metrics_file stay local', () => {
    const { problems } = problemsOf('model: s3://m/m.onnx\ninput: in.csv\nfeatures: { columns: [a] }\noutput: out.csv\nstate_dir: s3://state/\nmetrics_file: s3://m/metrics.prom\n');
    expect(problems).toHaveLength(3);
    for (const p of problems) expect(p).toMatch(/must be a local path: only input\.path, output\.path and errors\.rejects may name objects \(s3:\/\/\)/);
  });
});

describe('loadJob: file errors', () => {
  it('a job file that does not exist is PATH_NOT_FOUND', () => {
    expect(() => loadJob(path.join(root, 'nope.yaml'))).toThrow(expect.objectContaining({ code: 'PATH_NOT_FOUND', message: expect.stringContaining('nope.yaml') }));
  });

  it('a directory is a USAGE error', () => {
    expect(() => loadJob(jobsDir)).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('is a directory') }));
  });
});

describe('loadJob: shorthands and full forms', () => {
  it('model: path, or { path, threads, inter_threads, optimization }', () => {
    expect(load(MINIMAL).model).toEqual({ path: r('models/m.onnx'), threads: undefined, interThreads: undefined, optimization: 'all' });
    const job = load(MINIMAL.replace('model: ../models/m.onnx', 'model: { path: m.onnx, threads: 2, inter_threads: 1, optimization: basic }'));
    expect(job.model).toEqual({ path: path.join(jobsDir, 'm.onnx'), threads: 2, interThreads: 1, optimization: 'basic' });
  });

  it('input: a path, a list of paths, or the full mapping', () => {
    expect(load(MINIMAL.replace('input: ../data/*.csv', 'input: [a.csv, ../b/*.tsv, /abs/c]')).input.patterns).toEqual([
      path.join(jobsDir, 'a.csv'),
      r('b/*.tsv'),
      '/abs/c',
    ]);
    const job = load(
      MINIMAL.replace(
        'input: ../data/*.csv',
        `input:
  path: [in]
  format: tsv
  incremental: true
  csv: { delimiter: ";", quote: "'", header: [x, 2], encoding: iso-8859-1, relax_quotes: true }`,
      ),
    );
    expect(job.input).toEqual({
      patterns: [path.join(jobsDir, 'in')],
      format: 'tsv',
      incremental: true,
      csv: { delimiter: ';', quote: "'", header: ['x', '2'], encoding: 'latin1', relaxQuotes: true },
    });
  });

  it('delimiter "tab" and "\\t" both mean a tab; encodings are normalized', () => {
    const csv = (opts: string) => load(MINIMAL.replace('input: ../data/*.csv', `input: { path: x, csv: ${opts} }`)).input.csv;
    expect(csv('{ delimiter: tab }').delimiter).toBe('\t');
    expect(csv(String.raw`{ delimiter: "\\t" }`).delimiter).toBe('\t');
    expect(csv('{ delimiter: "\\t" }').delimiter).toBe('\t');
    expect(csv('{ delimiter: "||" }').delimiter).toBe('||');
    expect(csv('{ encoding: utf-8 }').encoding).toBe('utf8');
    expect(csv('{ encoding: latin1 }').encoding).toBe('latin1');
    expect(csv('{ header: false }').header).toBe(false);
  });

  it('output: a path or { path, format, float_precision }', () => {
    const job = load(MINIMAL.replace('output: ../out/{input_stem}.csv', 'output: { path: "out/{job}-{date}.txt", format: csv, float_precision: 3 }'));
    expect(job.output).toEqual({ template: path.join(jobsDir, 'out/{job}-{date}.txt'), format: 'csv', floatPrecision: 3 });
  });

  it('features.inputs as a mapping (model input → column) or a list (same names)', () => {
    expect(load(MINIMAL.replace('{ columns: [a, b] }', '{ inputs: { age: Age, sex: 7 } }')).features).toEqual({
      mode: 'inputs',
      inputs: [
        { input: 'age', column: 'Age' },
        { input: 'sex', column: '7' },
      ],
    });
    expect(load(MINIMAL.replace('{ columns: [a, b] }', '{ inputs: [x, y] }')).features).toEqual({
      mode: 'inputs',
      inputs: [
        { input: 'x', column: 'x' },
        { input: 'y', column: 'y' },
      ],
    });
  });

  it('features.columns with a named model input; numeric column names become text', () => {
    expect(load(MINIMAL.replace('{ columns: [a, b] }', '{ columns: [1, b], input: float_input }')).features).toEqual({
      mode: 'columns',
      input: 'float_input',
      columns: ['1', 'b'],
    });
  });

  it('passthrough: one name or a list', () => {
    expect(load(`${MINIMAL}passthrough: id\n`).passthrough).toEqual(['id']);
    expect(load(`${MINIMAL}passthrough: [id, 42]\n`).passthrough).toEqual(['id', '42']);
  });

  it('predictions: an output name, { output, column, labels }, or a threshold', () => {
    const job = load(`${MINIMAL}predictions:
  - label
  - { output: probabilities, column: p, labels: [stay, leave] }
  - { output: score, labels: [0, 1] }
  - threshold: { output: probabilities, class: leave, at: 0.3, column: flag }
  - threshold: { output: probabilities, class: 1, at: 0.5 }
`);
    expect(job.predictions).toEqual([
      { kind: 'output', output: 'label', column: 'label', labels: undefined },
      { kind: 'output', output: 'probabilities', column: 'p', labels: ['stay', 'leave'] },
      { kind: 'output', output: 'score', column: 'score', labels: ['0', '1'] },
      { kind: 'threshold', output: 'probabilities', cls: 'leave', at: 0.3, column: 'flag' },
      { kind: 'threshold', output: 'probabilities', cls: '1', at: 0.5, column: 'probabilities_1' },
    ]);
  });

  it('missing: one policy for every column', () => {
    const missing = (v: string) => load(MINIMAL.replace('{ columns: [a, b] }', `{ columns: [a, b], missing: ${v} }`)).missing;
    expect(missing('reject')).toEqual({ default: { kind: 'reject' }, byColumn: new Map() });
    expect(missing('nan')).toEqual({ default: { kind: 'nan' }, byColumn: new Map() });
    expect(missing('0')).toEqual({ default: { kind: 'fill', value: 0 }, byColumn: new Map() });
    expect(missing('-1.5')).toEqual({ default: { kind: 'fill', value: -1.5 }, byColumn: new Map() });
  });

  it('missing: a per-column map, with `default` for the rest', () => {
    const job = load(MINIMAL.replace('{ columns: [a, b] }', '{ columns: [a, b, c], missing: { default: nan, a: 0, b: reject } }'));
    expect(job.missing.default).toEqual({ kind: 'nan' });
    expect([...job.missing.byColumn]).toEqual([
      ['a', { kind: 'fill', value: 0 }],
      ['b', { kind: 'reject' }],
    ]);
    const noDefault = load(MINIMAL.replace('{ columns: [a, b] }', '{ columns: [a, b], missing: { b: 2.5 } }'));
    expect(noDefault.missing.default).toEqual({ kind: 'reject' });
    expect(noDefault.missing.byColumn.get('b')).toEqual({ kind: 'fill', value: 2.5 });
  });

  it('errors.max_rejected: a count or a percentage; rejects path resolved', () => {
    const errors = (v: string) => load(`${MINIMAL}errors: ${v}\n`).errors;
    expect(errors('{ max_rejected: 10 }').maxRejected).toEqual({ kind: 'count', count: 10 });
    expect(errors('{ max_rejected: "0.5%" }').maxRejected).toEqual({ kind: 'percent', percent: 0.5 });
    expect(errors('{ max_rejected: " 2 % " }').maxRejected).toEqual({ kind: 'percent', percent: 2 });
    expect(errors('{ max_rejected: 100% }').maxRejected).toEqual({ kind: 'percent', percent: 100 });
    expect(errors(`{ rejects: "rej/{input_stem}.csv" }`).rejects).toBe(path.join(jobsDir, 'rej/{input_stem}.csv'));
    expect(errors('{ rejects: null }').rejects).toBeUndefined();
  });

  it('schedule: a cron string or a mapping, with defaults and durations', () => {
    expect(load(`${MINIMAL}schedule: "0 2 * * *"\n`).schedule).toEqual({
      cron: '0 2 * * *',
      timezone: 'UTC',
      missed: 'skip',
      retries: 0,
      retryDelayMs: 60_000,
      timeoutMs: undefined,
    });
    expect(load(`${MINIMAL}schedule: { cron: "*/5 * * * * *", timezone: Asia/Seoul, missed: run-once, retries: 3, retry_delay: 90, timeout: 1h30m }\n`).schedule).toEqual({
      cron: '*/5 * * * * *',
      timezone: 'Asia/Seoul',
      missed: 'run-once',
      retries: 3,
      retryDelayMs: 90_000,
      timeoutMs: 5_400_000,
    });
    expect(load(`${MINIMAL}schedule: null\n`).schedule).toBeUndefined();
  });

  it('state_dir and metrics_file are resolved; metrics_file null is off', () => {
    const job = load(`${MINIMAL}state_dir: ../state\nmetrics_file: ../metrics/sb.prom\n`);
    expect(job.stateDir).toBe(r('state'));
    expect(job.metricsFile).toBe(r('metrics/sb.prom'));
    expect(load(`${MINIMAL}metrics_file: null\n`).metricsFile).toBeUndefined();
  });

  it('batch_size is read as given', () => {
    expect(load(`${MINIMAL}batch_size: 1\n`).batchSize).toBe(1);
    expect(load(`${MINIMAL}batch_size: 1000000\n`).batchSize).toBe(1_000_000);
  });
});

describe('loadJob: environment variables', () => {
  it('expands ${VAR} inside values, and ${VAR:-default} when unset or empty', () => {
    const text = 'model: ${MODELS}/m.onnx\ninput: ${IN:-../data}/*.csv\nfeatures: { columns: [a] }\noutput: ${OUT:-out}/r.csv\n';
    const job = load(text, { MODELS: '/srv/models', OUT: '' });
    expect(job.model.path).toBe('/srv/models/m.onnx');
    expect(job.input.patterns).toEqual([r('data/*.csv')]);
    expect(job.output.template).toBe(path.join(jobsDir, 'out/r.csv'));
  });

  it('a whole-value ${BATCH:-4096} becomes a number', () => {
    const text = `${MINIMAL}batch_size: \${BATCH:-4096}\n`;
    expect(load(text, {}).batchSize).toBe(4096);
    expect(load(text, { BATCH: '128' }).batchSize).toBe(128);
    expect(load(`${MINIMAL}errors:\n  max_rejected: \${MAXREJ:-5}\n`, {}).errors.maxRejected).toEqual({ kind: 'count', count: 5 });
    expect(load(`${MINIMAL}errors:\n  max_rejected: \${MAXREJ:-5}\n`, { MAXREJ: '1%' }).errors.maxRejected).toEqual({ kind: 'percent', percent: 1 });
  });

  it('booleans and null come through a whole-value variable too', () => {
    // (inside a YAML flow mapping `{ ... }` a ${...} must be quoted: braces are YAML syntax there)
    const job = load(MINIMAL.replace('input: ../data/*.csv', 'input: { path: x.csv, incremental: "${INC:-false}" }') + 'metrics_file: ${METRICS:-}\n', { INC: 'true' });
    expect(job.input.incremental).toBe(true);
    expect(job.metricsFile).toBeUndefined();
  });

  it('a variable whose value is not valid YAML on its own stays text', () => {
    const job = load(`${MINIMAL}state_dir: \${STATE}\n`, { STATE: 'a: b: c' });
    expect(job.stateDir).toBe(path.join(jobsDir, 'a: b: c'));
    const quoted = load(`${MINIMAL}state_dir: \${STATE}\n`, { STATE: '"half' });
    expect(quoted.stateDir).toBe(path.join(jobsDir, '"half'));
  });

  it('a whole-value variable holding "#" is text, not a YAML comment', () => {
    const job = load(MINIMAL.replace('input: ../data/*.csv', 'input:\n  path: x.csv\n  csv:\n    delimiter: ${DELIM}'), { DELIM: '#' });
    expect(job.input.csv.delimiter).toBe('#');
  });

  it('$${ is a literal ${', () => {
    const job = load(`${MINIMAL}state_dir: "st-$\${HOME}"\n`, { HOME: '/root' });
    expect(job.stateDir).toBe(path.join(jobsDir, 'st-${HOME}'));
  });

  it('an unset variable without default is a problem located at its value, with its YAML path', () => {
    const { problem, shown } = oneProblem(MINIMAL.replace('input: ../data/*.csv', 'input:\n  path: ${LANDING}/*.csv'));
    expect(problem).toBe(`${shown}:3:9: environment variable LANDING is not set: export it or write \${LANDING:-default} (at input.path)`);
  });

  it('an unset whole-value variable is reported once, not again as a wrong type', () => {
    const { problem } = oneProblem(`${MINIMAL}batch_size: \${BATCH}\n`);
    expect(problem).toMatch(/:5:13: environment variable BATCH is not set.*\(at batch_size\)$/);
  });

  it('an empty whole-value variable is an empty YAML value (null), which a required key then rejects', () => {
    const { problem } = oneProblem(MINIMAL.replace('../models/m.onnx', '${M}'), { M: '' });
    expect(problem).toContain('got null from ${M} (at model)');
  });

  it('every unset variable is reported, each with its own path', () => {
    const { problems } = problemsOf('model: ${A}/m.onnx\ninput: ["${B}/x.csv", ok.csv, "${C}/y.csv"]\nfeatures: { columns: [a] }\noutput: o.csv\n');
    expect(problems.map((p) => p.replace(/^.*?: /, ''))).toEqual([
      'environment variable A is not set: export it or write ${A:-default} (at model)',
      'environment variable B is not set: export it or write ${B:-default} (at input.0)',
      'environment variable C is not set: export it or write ${C:-default} (at input.2)',
    ]);
  });

  it('a malformed reference is a problem', () => {
    const { problem } = oneProblem(MINIMAL.replace('../models/m.onnx', '${MODEL DIR}/m.onnx'));
    expect(problem).toContain("malformed variable reference '${MODEL DIR}'");
    expect(problem).toContain('(at model)');
  });

  it('keys are not expanded', () => {
    const { problem } = oneProblem(`${MINIMAL}\${KEY}: 1\n`, { KEY: 'batch_size' });
    expect(problem).toContain("unknown key '${KEY}'");
  });
});

describe('loadJob: values from the environment are never shown in messages', () => {
  const SECRET = 's3cr3t-Passw0rd';
  const env = { TOKEN: SECRET, ZONE: SECRET, TEMPLATE: `{${SECRET}}` };
  it.each([
    ['batch_size: ${TOKEN}', /expected number, got string from \$\{TOKEN\} \(values from the environment are not shown\) \(at batch_size\)$/],
    ['model: { path: m.onnx, threads: "${TOKEN}" }', /got string from \$\{TOKEN\}.*\(at model\.threads\)$/],
    ['input: { path: x.csv, incremental: "${TOKEN}" }', /expected boolean, got string from \$\{TOKEN\}.*\(at input\.incremental\)$/],
    ['passthrough: [a]\nfeatures: { columns: [a], missing: "${TOKEN}" }', /must be 'reject', 'nan' or a number \(at features\.missing\)$/],
    ['errors: { max_rejected: "${TOKEN}" }', /\(at errors\.max_rejected\)$/],
    ['schedule: { cron: "${TOKEN}" }', /\$\{TOKEN\} does not hold a valid cron expression \(values from the environment are not shown\) \(at schedule\.cron\)$/],
    ['schedule: "${TOKEN}"', /\$\{TOKEN\} does not hold a valid cron expression.*\(at schedule\)$/],
    ['schedule: { cron: "0 2 * * *", timezone: "${ZONE}" }', /\$\{ZONE\} does not hold a known time zone .*\(at schedule\.timezone\)$/],
    ['schedule: { cron: "0 2 * * *", missed: "${TOKEN}" }', /must be one of "skip", "run-once" \(at schedule\.missed\)$/],
    ['name: "${TOKEN}x!"', /\(at name\)$/],
    ['output: "out/${TEMPLATE}.csv"', /\$\{TEMPLATE\} holds an unknown token \(values from the environment are not shown\); tokens are .*\(at output\.path\)$/],
  ])('%s', (line, message) => {
    const key = line.split(':')[0];
    const base = MINIMAL.split('\n').filter((l) => !l.startsWith(`${key}:`) && !(key === 'passthrough' && l.startsWith('features:'))).join('\n');
    const { problems } = problemsOf(`${base}${line}\n`, env);
    expect(problems.some((p) => message.test(p)), problems.join('\n')).toBe(true);
    for (const p of problems) expect(p).not.toContain('s3cr3t');
  });

  it('a value from the environment that is valid is used as it is', () => {
    expect(load(`${MINIMAL}batch_size: \${N}\n`, { N: '512' }).batchSize).toBe(512);
  });

  it('an unknown token written in the file itself is still shown, with its did-you-mean', () => {
    const { problem } = oneProblem(MINIMAL.replace('../out/{input_stem}.csv', '"${DIR}/{input_stm}.csv"'), { DIR: `/srv/${SECRET}` });
    expect(problem).toMatch(/unknown token \{input_stm\}, did you mean 'input_stem'\?/);
    expect(problem).not.toContain('s3cr3t');
  });
});

describe('loadJob: problems', () => {
  it("an unknown key: `unknown key 'formt', did you mean 'format'? (at input.formt)` at the key's line:col", () => {
    const { problem, shown } = oneProblem(MINIMAL.replace('input: ../data/*.csv', 'input:\n  path: x.csv\n  formt: csv'));
    expect(problem).toBe(`${shown}:4:3: unknown key 'formt', did you mean 'format'? (at input.formt)`);
  });

  it('unknown keys at every level get a did-you-mean from the keys valid there', () => {
    const { problems } = problemsOf(`model: { path: m.onnx, thread: 2 }
input: { path: x.csv, csv: { delimter: ";" } }
features: { columns: [a], mising: nan }
output: o.csv
predictions: [{ output: p, colum: q }]
errors: { max_reject: 1 }
schedule: { cron: "0 2 * * *", timzone: UTC }
batchsize: 10
`);
    const messages = problems.map((p) => p.replace(/^.*?:\d+:\d+: /, ''));
    expect(messages.sort()).toEqual(
      [
        "unknown key 'thread', did you mean 'threads'? (at model.thread)",
        "unknown key 'delimter', did you mean 'delimiter'? (at input.csv.delimter)",
        "unknown key 'mising', did you mean 'missing'? (at features.mising)",
        "unknown key 'colum', did you mean 'column'? (at predictions.0.colum)",
        "unknown key 'max_reject', did you mean 'max_rejected'? (at errors.max_reject)",
        "unknown key 'timzone', did you mean 'timezone'? (at schedule.timzone)",
        "unknown key 'batchsize', did you mean 'batch_size'? (at batchsize)",
      ].sort(),
    );
  });

  it('an unknown key far from every known key gets no suggestion', () => {
    const { problem } = oneProblem(`${MINIMAL}zzzzzzzz: 1\n`);
    expect(problem).toMatch(/:5:1: unknown key 'zzzzzzzz' \(at zzzzzzzz\)$/);
  });

  it('reports several problems at once, each with file:line:col and path', () => {
    const { problems, shown } = problemsOf(`name: "bad name"
model: m.onnx
input: { path: x.csv, formt: csv }
features: { columns: [a] }
output: "out/{input_stm}.csv"
batch_size: "abc"
`);
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        `${shown}:1:7: must start with a letter or digit, followed by letters, digits, ".", "_" or "-" (it names files in state_dir) (at name)`,
        `${shown}:3:23: unknown key 'formt', did you mean 'format'? (at input.formt)`,
        `${shown}:6:13: expected number, got string "abc" (at batch_size)`,
      ]),
    );
    // the bad template token is found only once the schema is fine
    expect(problems.join('\n')).not.toContain('input_stm');
  });

  it('a wrong type names what was expected and what was given', () => {
    expect(oneProblem(`${MINIMAL}batch_size: "abc"\n`).problem).toMatch(/expected number, got string "abc" \(at batch_size\)$/);
    expect(oneProblem(`${MINIMAL}batch_size: [1]\n`).problem).toMatch(/expected number, got a list \(at batch_size\)$/);
    expect(oneProblem(MINIMAL.replace('input: ../data/*.csv', 'input: { path: x, incremental: "yes" }')).problem).toMatch(
      /expected boolean, got string "yes" \(at input\.incremental\)$/,
    );
  });

  it('out-of-range numbers are problems', () => {
    expect(oneProblem(`${MINIMAL}batch_size: 0\n`).problem).toContain('(at batch_size)');
    expect(oneProblem(`${MINIMAL}batch_size: 2.5\n`).problem).toContain('(at batch_size)');
    expect(oneProblem(MINIMAL.replace('output: ../out/{input_stem}.csv', 'output: { path: o.csv, float_precision: 18 }')).problem).toContain('(at output.float_precision)');
    expect(oneProblem(`${MINIMAL}predictions: [{ threshold: { output: p, class: 1, at: 1.5 } }]\n`).problem).toContain('(at predictions.0.threshold.at)');
  });

  it('a required key that is missing is said so, at the top of the file', () => {
    const { problem, shown } = oneProblem('model: m.onnx\ninput: x.csv\nfeatures: { columns: [a] }\n');
    expect(problem).toBe(`${shown}:1:1: required key is missing (at output)`);
  });

  it('enum values are listed', () => {
    expect(oneProblem(MINIMAL.replace('input: ../data/*.csv', 'input: { path: x, format: parquet2 }')).problem).toMatch(/must be one of "csv", "tsv", "jsonl", "parquet" \(at input\.format\)$/);
    expect(oneProblem(`${MINIMAL}schedule: { cron: x, missed: sometimes }\n`).problem).toMatch(/must be one of "skip", "run-once" \(at schedule\.missed\)$/);
  });

  it('max_rejected must be a count or a percentage', () => {
    expect(oneProblem(`${MINIMAL}errors: { max_rejected: "abc" }\n`).problem).toContain('must be a count like 10 or a percentage like "0.5%" (at errors.max_rejected)');
    expect(oneProblem(`${MINIMAL}errors: { max_rejected: "5" }\n`).problem).toContain('(at errors.max_rejected)');
    expect(oneProblem(`${MINIMAL}errors: { max_rejected: -1 }\n`).problem).toContain('(at errors.max_rejected)');
    expect(oneProblem(`${MINIMAL}errors: { max_rejected: 1.5 }\n`).problem).toContain('(at errors.max_rejected)');
    expect(oneProblem(`${MINIMAL}errors: { max_rejected: "150%" }\n`).problem).toContain('a percentage cannot exceed 100% (at errors.max_rejected)');
  });

  it('missing must be reject, nan or a number, also per column', () => {
    expect(oneProblem(MINIMAL.replace('{ columns: [a, b] }', '{ columns: [a], missing: zero }')).problem).toContain('(at features.missing)');
    expect(oneProblem(MINIMAL.replace('{ columns: [a, b] }', '{ columns: [a], missing: { a: zero } }')).problem).toContain('(at features.missing');
  });

  it('features: both columns and inputs, or neither, is one problem at features', () => {
    const both = oneProblem(MINIMAL.replace('{ columns: [a, b] }', '{ columns: [a], inputs: { x: a } }')).problem;
    expect(both).toMatch(/:3:11: give exactly one of features\.columns .* or features\.inputs .* \(at features\)$/);
    const neither = oneProblem(MINIMAL.replace('{ columns: [a, b] }', '{ missing: nan }')).problem;
    expect(neither).toContain('give exactly one of features.columns');
  });

  it('features.columns must not be empty', () => {
    expect(oneProblem(MINIMAL.replace('{ columns: [a, b] }', '{ columns: [] }')).problem).toContain('(at features.columns)');
  });

  it('a prediction must be either an output or a threshold', () => {
    expect(oneProblem(`${MINIMAL}predictions: [{ column: x }]\n`).problem).toContain('a prediction is either');
    expect(oneProblem(`${MINIMAL}predictions: [{ output: p, threshold: { output: p, class: 1, at: 0.5 } }]\n`).problem).toContain('a prediction is either');
    expect(oneProblem(`${MINIMAL}predictions:\n  - threshold: { output: p, class: 1, at: 0.5 }\n    column: x\n`).problem).toContain('put column inside threshold');
    expect(oneProblem(`${MINIMAL}predictions: []\n`).problem).toContain('(at predictions)');
  });

  it('durations are checked', () => {
    expect(oneProblem(`${MINIMAL}schedule: { cron: "0 2 * * *", retry_delay: 5x }\n`).problem).toContain('must be a duration like 90, 30s, 5m, 2h or 1h30m (at schedule.retry_delay)');
  });

  it('empty strings are rejected where a path is required', () => {
    expect(oneProblem(MINIMAL.replace('model: ../models/m.onnx', 'model: ""')).problem).toContain('must not be empty');
  });

  it.each([
    ['churn-nightly', true],
    ['a', true],
    ['v1.2_x-y', true],
    ['9lives', true],
    ['bad name', false],
    ['-leading', false],
    ['.hidden', false],
    ['a/b', false],
    ['../up', false],
    ['..', false],
    ['-rf', false],
    ['é', false],
  ])('name %j valid: %s', (name, valid) => {
    const text = `name: ${JSON.stringify(name)}\n${MINIMAL}`;
    if (valid) expect(load(text).name).toBe(name);
    else expect(oneProblem(text).problem).toMatch(/^.*:1:7: must start with a letter or digit, followed by letters, digits, "\.", "_" or "-" \(it names files in state_dir\) \(at name\)$/);
  });

  it('a bad template token is a problem with a did-you-mean, located at the template', () => {
    const { problem, shown } = oneProblem(MINIMAL.replace('{input_stem}', '{input_stm}'));
    expect(problem).toBe(
      `${shown}:4:9: unknown token {input_stm}, did you mean 'input_stem'?; tokens are {job} {input_stem} {input_name} {run_id} {date} {time} {shard} (at output.path)`,
    );
  });

  it('a job name longer than 128 characters is refused: it names files in state_dir', () => {
    expect(load(`name: ${'n'.repeat(128)}\n${MINIMAL}`).name).toHaveLength(128);
    expect(oneProblem(`name: ${'n'.repeat(129)}\n${MINIMAL}`).problem).toMatch(/:1:7: must be at most 128 characters \(it names files in state_dir\) \(at name\)$/);
    const file = jobFile(MINIMAL, `${'f'.repeat(129)}.yaml`);
    expect(() => loadJob(file, {})).toThrow(SbError);
    try {
      loadJob(file, {});
    } catch (err) {
      expect((err as SbError).context.problems).toEqual([expect.stringMatching(/:1: the job name \(from the file name, 129 characters\) must be at most 128 characters \(it names files in state_dir\): set name:$/)]);
    }
  });

  it('a bad token in errors.rejects is located there', () => {
    const { problem } = oneProblem(`${MINIMAL}errors:\n  rejects: "rej/{jbo}.csv"\n`);
    expect(problem).toMatch(/:6:12: unknown token \{jbo\}, did you mean 'job'\?.*\(at errors\.rejects\)$/);
  });
});

describe('loadJob: YAML problems', () => {
  it('a syntax error carries line and column', () => {
    const { problems, shown } = problemsOf('model: m.onnx\ninput: x.csv\nfeatures: { columns: [a]\noutput: o.csv\n');
    expect(problems.length).toBeGreaterThanOrEqual(1);
    expect(problems[0]).toMatch(new RegExp(`^${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: YAML syntax error: `));
    expect(problems[0]).toMatch(/:4:1: /);
  });

  it('a bad indentation is a syntax error at its line', () => {
    const { problems } = problemsOf('model: m.onnx\ninput: x.csv\n  path: y\nfeatures: { columns: [a] }\noutput: o.csv\n');
    expect(problems[0]).toMatch(/:2:\d+: YAML syntax error: /);
  });

  it('duplicate keys are an error at the second one', () => {
    const { problems } = problemsOf(`${MINIMAL}model: other.onnx\n`);
    expect(problems[0]).toMatch(/:5:1: YAML syntax error: Map keys must be unique/);
  });

  it('a document that is not a mapping is one problem at line 1', () => {
    for (const text of ['', '# only a comment\n', '- a\n- b\n', 'just text\n', '42\n']) {
      const { problem, shown } = oneProblem(text);
      expect(problem).toBe(`${shown}:1: a job file must be a YAML mapping (key: value lines)`);
    }
  });

  it('a tab-indented file is a syntax error, not a crash', () => {
    const { problems } = problemsOf('model: m.onnx\ninput:\n\tpath: x.csv\n');
    expect(problems[0]).toContain('YAML syntax error');
  });

  // "Billion laughs": each line multiplies the one before by nine; expanded, the file would hold 9^8 strings.
  const BOMB = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)].join('\n');

  it('an alias bomb is one problem at the first alias, not a crash', () => {
    const { problem, shown } = oneProblem(`${MINIMAL}${BOMB}\n`);
    expect(problem).toBe(`${shown}:6:8: YAML aliases expand to too much data (more than 100 copies of anchored values); write the values out instead of using *aliases`);
  });

  it('an alias without an anchor, and an alias inside the value it names, are one problem each at the alias', () => {
    expect(oneProblem(`${MINIMAL}passthrough: *ids\n`).problem).toMatch(/:5:14: YAML alias \*ids has no anchor &ids before it$/);
    expect(oneProblem(`${MINIMAL}passthrough: &p [a, *p]\n`).problem).toMatch(/:5:21: YAML alias \*p stands inside the value it names \(&p\), so that value would never end$/);
  });

  it('aliases used as intended still work', () => {
    const job = load('model: ../models/m.onnx\ninput: ../data/*.csv\nfeatures: { columns: &cols [a, b] }\npassthrough: *cols\noutput: ../out/{input_stem}.csv\n');
    expect(job.passthrough).toEqual(['a', 'b']);
  });
});

describe('parseJob', () => {
  it('validates text as if it came from the given file', () => {
    const job = parseJob(MINIMAL, '/srv/jobs/from-text.yml', {});
    expect(job.name).toBe('from-text');
    expect(job.model.path).toBe('/srv/models/m.onnx');
    expect(job.stateDir).toBe('/srv/jobs/.serve-batch');
  });

  it('uses process.env by default', () => {
    process.env.SB_TEST_BATCH = '77';
    try {
      expect(parseJob(`${MINIMAL}batch_size: \${SB_TEST_BATCH}\n`, '/srv/jobs/j.yaml').batchSize).toBe(77);
    } finally {
      delete process.env.SB_TEST_BATCH;
    }
  });

  it('describe() of the error is the one-line summary; problems are the details', () => {
    try {
      parseJob('model: m.onnx\n', '/srv/jobs/j.yaml', {});
      throw new Error('expected a failure');
    } catch (err) {
      const e = err as SbError;
      expect(e.describe()).toBe(e.message);
      expect(e.context.problems).toEqual(
        expect.arrayContaining([expect.stringContaining('required key is missing (at input)'), expect.stringContaining('required key is missing (at output)')]),
      );
    }
  });
});
