import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import { incrementalProblem, isPerInput, render, stemOf, templateProblems, tokensOf, TOKENS } from '../../src/job/template.js';
import { SbError as SbErrorClass, type SbError } from '../../src/errors.js';
import type { JobConfig } from '../../src/job/config.js';

// A valid job whose templates are then replaced (parseJob itself refuses unknown tokens).
const base = parseJob('model: m.onnx\ninput: x.csv\nfeatures: { columns: [a] }\noutput: o.csv\n', '/srv/jobs/j.yaml', {});
const job = (template: string, rejects?: string): JobConfig => ({
  ...base,
  output: { ...base.output, template },
  errors: { ...base.errors, rejects },
});

describe('tokensOf', () => {
  it('lists the tokens of a template in order, repeats included', () => {
    expect(tokensOf('out/{job}/{date}/{input_stem}-{job}.csv')).toEqual(['job', 'date', 'input_stem', 'job']);
  });

  it('finds none in a plain path; unbalanced or nested braces are not tokens', () => {
    expect(tokensOf('/data/out.csv')).toEqual([]);
    expect(tokensOf('a{b')).toEqual([]);
    expect(tokensOf('a}b{')).toEqual([]);
    expect(tokensOf('{{job}}')).toEqual(['job']);
  });

  it('an empty {} is a token with an empty name', () => {
    expect(tokensOf('a{}b')).toEqual(['']);
  });
});

describe('isPerInput', () => {
  it('is true when the template names the input', () => {
    expect(isPerInput('out/{input_stem}.csv')).toBe(true);
    expect(isPerInput('out/{input_name}')).toBe(true);
    expect(isPerInput('{job}/{input_name}.scored.csv')).toBe(true);
  });

  it('is false otherwise', () => {
    expect(isPerInput('out/{job}-{date}.csv')).toBe(false);
    expect(isPerInput('out/input_stem.csv')).toBe(false);
    expect(isPerInput('-')).toBe(false);
  });
});

describe('render', () => {
  it('replaces every known token, repeats included', () => {
    expect(render('/o/{job}/{date}/{input_stem}-{job}.csv', { job: 'j', date: '2025-01-02', input_stem: 's' })).toBe('/o/j/2025-01-02/s-j.csv');
  });

  it('leaves a token without a value as it is', () => {
    expect(render('{job}-{shard}-{nope}', { job: 'j' })).toBe('j-{shard}-{nope}');
  });

  it('inserts values literally (no re-expansion of braces or $)', () => {
    expect(render('{input_stem}/{job}', { input_stem: '{job}', job: '$1' })).toBe('{job}/$1');
  });

  it('an empty value is allowed', () => {
    expect(render('a{shard}b', { shard: '' })).toBe('ab');
  });
});

describe('render: a value stays inside its path component', () => {
  it.each([
    // An input named `...csv` has the stem `..`, `..csv` the stem `.`.
    ['/srv/out/{input_stem}/r.csv', { input_stem: '..' }, '/srv/out/__/r.csv'],
    ['/srv/out/{input_stem}/r.csv', { input_stem: '.' }, '/srv/out/_/r.csv'],
    ['/srv/out/{input_stem}', { input_stem: '..' }, '/srv/out/__'],
    ['/srv/out/{input_stem}/r.csv', { input_stem: '' }, '/srv/out/_/r.csv'],
    ['/srv/out/{input_stem}/r.csv', { input_stem: '../../etc' }, '/srv/out/.._.._etc/r.csv'],
    ['/srv/out/{input_name}.csv', { input_name: 'a/b' }, '/srv/out/a_b.csv'],
    ['/srv/out/{input_stem}{input_stem}/r.csv', { input_stem: '.' }, '/srv/out/__/r.csv'],
  ])('%s with %j → %s', (template, values, expected) => {
    expect(render(template, values)).toBe(expected);
  });

  it('keeps dots that do not make a whole component, and literal text', () => {
    expect(render('/srv/out/{input_stem}.scored.csv', { input_stem: '..' })).toBe('/srv/out/...scored.csv');
    expect(render('/srv/out/x{input_stem}/r.csv', { input_stem: '..' })).toBe('/srv/out/x../r.csv');
    expect(render('/srv/.hidden/{job}.csv', { job: 'j' })).toBe('/srv/.hidden/j.csv');
  });

  it('never places a file outside the template\'s fixed directory, whatever the input is called', () => {
    for (const name of ['...csv', '..csv', '.csv', '....csv', 'a..csv', '...', '..', '.', '.gz', '...csv.gz']) {
      for (const template of ['/srv/out/{input_stem}/r.csv', '/srv/out/{input_name}/r.csv', '/srv/out/{input_stem}', '/srv/out/{input_name}']) {
        const file = render(template, { input_stem: stemOf(`/in/${name}`), input_name: path.basename(`/in/${name}`) });
        const rel = path.relative('/srv/out', path.resolve(file));
        expect(['', '..'].includes(rel.split(path.sep)[0]) || path.isAbsolute(rel), `${template} for ${name} → ${file}`).toBe(false);
      }
    }
  });
});

describe('incrementalProblem: an incremental job must not replace its combined result every run', () => {
  it('refuses a combined result without {run_id}, saying what to use instead', () => {
    for (const t of ['/o/all.csv', '/o/{date}.csv', '/o/{time}.csv', '/o/{date}/{time}.csv', '/o/{job}.csv']) {
      expect(incrementalProblem(t), t).toMatch(/keep only the last run's rows.*\{input_stem\}.*\{run_id\}/);
    }
  });

  it('accepts one result per input, one file per run, and standard output', () => {
    for (const t of ['/o/{input_stem}.csv', '/o/{input_name}', '/o/{run_id}.csv', '/o/{date}-{run_id}.csv', '-']) expect(incrementalProblem(t), t).toBeUndefined();
  });

  it('is a job file problem at output.path', () => {
    const text = 'model: m.onnx\ninput: { path: in/*.csv, incremental: true }\nfeatures: { columns: [a] }\noutput: scored/all.csv\n';
    expect(() => parseJob(text, '/srv/jobs/j.yaml', {})).toThrow(SbErrorClass);
    try {
      parseJob(text, '/srv/jobs/j.yaml', {});
    } catch (err) {
      expect((err as SbError).context.problems).toEqual([expect.stringMatching(/j\.yaml:4:9: an incremental job scores only the inputs that are new .* \(at output\.path\)$/)]);
    }
    expect(parseJob(text.replace('scored/all.csv', "'scored/{date}-{run_id}.csv'"), '/srv/jobs/j.yaml', {}).input.incremental).toBe(true);
    expect(parseJob(text.replace('incremental: true', 'incremental: false'), '/srv/jobs/j.yaml', {}).output.template).toBe('/srv/jobs/scored/all.csv');
  });
});

describe('stemOf', () => {
  it.each([
    ['/d/a.csv', 'a'],
    ['/d/a.csv.gz', 'a'],
    ['b.tsv', 'b'],
    ['/d/no-ext', 'no-ext'],
    ['/d/.hidden', '.hidden'],
    ['/d/.hidden.csv', '.hidden'],
    ['/d/sales.2024-01.csv', 'sales.2024-01'], // only the format extension goes
    ['/dir.with.dots/x.csv', 'x'],
    ['stdin', 'stdin'],
  ])('%j → %j', (file, stem) => {
    expect(stemOf(file)).toBe(stem);
  });
});

describe('templateProblems', () => {
  it('knows exactly the documented tokens', () => {
    expect([...TOKENS]).toEqual(['job', 'input_stem', 'input_name', 'run_id', 'date', 'time', 'shard']);
    expect(templateProblems(job('/o/{job}{input_stem}{input_name}{run_id}{date}{time}{shard}.csv', 'r/{job}-{input_name}'))).toEqual([]);
  });

  it('an unknown token gets a did-you-mean and the list of tokens', () => {
    expect(templateProblems(job('out/{input_stm}.csv'))).toEqual([
      {
        message: "unknown token {input_stm}, did you mean 'input_stem'?; tokens are {job} {input_stem} {input_name} {run_id} {date} {time} {shard}",
        yamlPath: 'output.path',
        token: 'input_stm',
      },
    ]);
  });

  it('suggestions for other near misses; none when nothing is close', () => {
    const messages = templateProblems(job('{Job}/{runid}/{inputname}/{stem}/{xyzzy}.csv')).map((p) => p.message.replace(/; tokens are .*$/, ''));
    expect(messages).toEqual([
      "unknown token {Job}, did you mean 'job'?",
      "unknown token {runid}, did you mean 'run_id'?",
      "unknown token {inputname}, did you mean 'input_name'?",
      'unknown token {stem}',
      'unknown token {xyzzy}',
    ]);
  });

  it('checks errors.rejects too, with its own path', () => {
    expect(templateProblems(job('o.csv', 'rej/{input_stme}.csv'))).toEqual([
      { message: expect.stringContaining("unknown token {input_stme}, did you mean 'input_stem'?"), yamlPath: 'errors.rejects', token: 'input_stme' },
    ]);
  });

  it('reports each bad token of each template', () => {
    const problems = templateProblems(job('{a}/{b}.csv', '{c}.csv'));
    expect(problems.map((p) => [p.yamlPath, p.message.split(',')[0].split(';')[0]])).toEqual([
      ['output.path', 'unknown token {a}'],
      ['output.path', 'unknown token {b}'],
      ['errors.rejects', 'unknown token {c}'],
    ]);
  });

  it('parseJob reports bad tokens as job problems, located at the template', () => {
    try {
      parseJob('model: m.onnx\ninput: x.csv\nfeatures: { columns: [a] }\noutput: "out/{input_stm}.csv"\n', '/srv/jobs/j.yaml', {});
      throw new Error('expected a failure');
    } catch (err) {
      const e = err as SbError;
      expect(e.code).toBe('JOB_INVALID');
      expect(e.context.problems).toEqual([expect.stringMatching(/j\.yaml:4:9: unknown token \{input_stm\}, did you mean 'input_stem'\?.*\(at output\.path\)$/)]);
    }
  });

  it('a query input has no file to name: {input_stem} and {input_name} are problems located at their template', () => {
    const text = "model: m.onnx\ninput: { database: '${DATABASE_URL}', query: 'select a from t' }\nfeatures: { columns: [a] }\noutput: \"out/{input_stem}.csv\"\nerrors: { rejects: \"rej/{input_name}\" }\n";
    try {
      parseJob(text, '/srv/jobs/j.yaml', { DATABASE_URL: 'postgres://u:Secr3t@db.test/x' });
      throw new Error('expected a failure');
    } catch (err) {
      const e = err as SbError;
      expect(e.code).toBe('JOB_INVALID');
      expect(e.context.problems).toEqual([
        expect.stringMatching(/j\.yaml:4:9: \{input_stem\} names an input file, and a query has none: use \{job\}, \{run_id\}, \{date\} or \{time\} \(at output\.path\)$/),
        expect.stringMatching(/j\.yaml:5:\d+: \{input_name\} names an input file, and a query has none: .*\(at errors\.rejects\)$/),
      ]);
    }
  });
});
