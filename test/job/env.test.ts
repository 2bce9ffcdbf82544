import { describe, expect, it } from 'vitest';
import { expandEnv, expandString, type EnvProblem } from '../../src/job/env.js';

// expandString with its problems collected.
function expand(raw: string, env: NodeJS.ProcessEnv = {}): { value: unknown; problems: string[] } {
  const problems: string[] = [];
  const value = expandString(raw, env, (m) => problems.push(m));
  return { value, problems };
}

describe('expandString: references', () => {
  it('replaces ${VAR} anywhere in a string, several times', () => {
    expect(expand('${A}/x/${B}-${A}.csv', { A: 'a', B: 'b' })).toEqual({ value: 'a/x/b-a.csv', problems: [] });
  });

  it('uses the default of ${VAR:-default} when VAR is unset or empty', () => {
    expect(expand('${DIR:-/data}/in', {}).value).toBe('/data/in');
    expect(expand('${DIR:-/data}/in', { DIR: '' }).value).toBe('/data/in');
    expect(expand('${DIR:-/data}/in', { DIR: '/srv' }).value).toBe('/srv/in');
  });

  it('a default may be empty or hold spaces, colons and dashes', () => {
    expect(expand('x${S:-}y').value).toBe('xy');
    expect(expand('${S:-a b:c-d}').value).toBe('a b:c-d');
    expect(expand('${S:--1}').value).toBe(-1);
  });

  it('a variable value is inserted verbatim (no recursive expansion)', () => {
    expect(expand('${A}', { A: '${B}', B: 'no' }).value).toBe('${B}');
    expect(expand('p/${A}', { A: '$HOME' }).value).toBe('p/$HOME');
  });

  it('$${ is a literal ${ and is not expanded', () => {
    expect(expand('$${HOME}/x', { HOME: '/root' })).toEqual({ value: '${HOME}/x', problems: [] });
    expect(expand('a$${B}c${B}', { B: 'b' }).value).toBe('a${B}cb');
  });

  it('a lone $ or {...} without $ is left alone', () => {
    expect(expand('cost$ {x} $A')).toEqual({ value: 'cost$ {x} $A', problems: [] });
  });

  it('names are case-sensitive and may hold digits and underscores', () => {
    expect(expand('${my_Var_2}', { my_Var_2: 'ok' }).value).toBe('ok');
    expect(expand('${MY_VAR_2:-d}', { my_Var_2: 'ok' }).value).toBe('d');
  });
});

describe('expandString: problems', () => {
  it('an unset variable without default is a problem that says how to fix it', () => {
    const r = expand('${MODEL_DIR}/m.onnx');
    expect(r.problems).toEqual(['environment variable MODEL_DIR is not set: export it or write ${MODEL_DIR:-default}']);
    expect(r.value).toBe('/m.onnx');
  });

  it('an empty variable is empty (as in sh); with a default, the default is used', () => {
    expect(expand('a${X}b', { X: '' })).toEqual({ value: 'ab', problems: [] });
    expect(expand('${X:-d}', { X: '' }).value).toBe('d');
  });

  it('each unset variable is its own problem', () => {
    expect(expand('${A}${B}${A}').problems).toHaveLength(3);
  });

  it.each(['${}', '${1A}', '${A B}', '${A-b}', '${A:b}', '${A', '${A:-x'])('%j is a malformed reference', (raw) => {
    const r = expand(raw, { A: 'a' });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^malformed variable reference '\$\{.*': use \$\{NAME\} or \$\{NAME:-default\}$/);
  });
});

describe('expandString: whole values keep their YAML type', () => {
  it.each([
    ['${N:-4096}', {}, 4096],
    ['${N}', { N: '12' }, 12],
    ['${N}', { N: '-0.5' }, -0.5],
    ['${N}', { N: '1e3' }, 1000],
    ['${N}', { N: '0x10' }, 16],
    ['${B}', { B: 'true' }, true],
    ['${B:-false}', {}, false],
    ['${Z}', { Z: 'null' }, null],
    ['${Z}', { Z: '~' }, null],
    ['${Z:-}', {}, null],
    ['${N}', { N: ' 12 ' }, 12],
    ['${N}', { N: '+.5' }, 0.5],
    ['${N}', { N: '5.' }, 5],
    ['${N}', { N: '0o17' }, 15],
    ['${N}', { N: '.inf' }, Infinity],
    ['${B}', { B: 'FALSE' }, false],
  ])('%j with %j is %j', (raw, env, value) => {
    expect(expand(raw, env as NodeJS.ProcessEnv)).toEqual({ value, problems: [] });
  });

  it.each([
    ['${S}', { S: 'abc' }, 'abc'],
    ['${S}', { S: '1%' }, '1%'],
    ['${S}', { S: 'yes' }, 'yes'], // YAML 1.2: not a boolean
    ['${S}', { S: '[a, b]' }, '[a, b]'], // lists and mappings are not taken from variables
    ['${S}', { S: '{a: 1}' }, '{a: 1}'],
    ['${S}', { S: '- x' }, '- x'],
    ['${S}', { S: 'a: b: c' }, 'a: b: c'], // not valid YAML on its own: still just text
    ['${S}', { S: '"unclosed' }, '"unclosed'],
    ['${S}', { S: "'quoted'" }, "'quoted'"],
    ['${S}', { S: '# not a comment' }, '# not a comment'], // not a YAML comment (would be null)
    ['${S}', { S: '#1' }, '#1'],
    ['${S}', { S: '1 # x' }, '1 # x'], // not the number 1
    ['${S}', { S: '--- 5' }, '--- 5'],
    ['${S}', { S: '&a 5' }, '&a 5'],
    ['${S}', { S: '!!int 5' }, '!!int 5'],
    ['${S}', { S: '1_000' }, '1_000'],
  ])('%j with %j stays the text %j', (raw, env, value) => {
    expect(expand(raw, env as NodeJS.ProcessEnv)).toEqual({ value, problems: [] });
  });

  it('a value with text around the reference stays a string', () => {
    expect(expand('x${N}', { N: '5' }).value).toBe('x5');
    expect(expand('${N}${N}', { N: '5' }).value).toBe('55');
    expect(expand(' ${N}', { N: '5' }).value).toBe(' 5');
  });

  it('$${...} alone is a literal, not a whole-value reference', () => {
    expect(expand('$${N}', { N: '5' }).value).toBe('${N}');
  });
});

describe('expandEnv', () => {
  it('expands every string value in nested mappings and lists, not keys or other scalars', () => {
    const problems: EnvProblem[] = [];
    const out = expandEnv(
      {
        '${K}': 'v',
        model: '${M}/m.onnx',
        list: ['${A}', 'plain', 3, true, null],
        nested: { batch: '${N:-10}', deep: [{ x: '${A}' }] },
      },
      { K: 'key', M: '/models', A: 'a' },
      problems,
    );
    expect(out).toEqual({
      '${K}': 'v',
      model: '/models/m.onnx',
      list: ['a', 'plain', 3, true, null],
      nested: { batch: 10, deep: [{ x: 'a' }] },
    });
    expect(problems).toEqual([]);
  });

  it('collects every problem with its path (keys and list indexes)', () => {
    const problems: EnvProblem[] = [];
    expandEnv({ a: '${X}', b: ['ok', '${Y}/p'], c: { d: '${}' } }, {}, problems);
    expect(problems).toEqual([
      { path: ['a'], message: expect.stringContaining('X is not set') },
      { path: ['b', 1], message: expect.stringContaining('Y is not set') },
      { path: ['c', 'd'], message: expect.stringContaining('malformed') },
    ]);
  });

  it('leaves strings without ${ untouched (same value, no parsing)', () => {
    const problems: EnvProblem[] = [];
    expect(expandEnv({ s: '123', t: '$HOME' }, { HOME: 'x' }, problems)).toEqual({ s: '123', t: '$HOME' });
    expect(problems).toEqual([]);
  });

  it('does not modify its input', () => {
    const input = { a: '${A}', l: ['${A}'] };
    expandEnv(input, { A: 'x' }, []);
    expect(input).toEqual({ a: '${A}', l: ['${A}'] });
  });
});
