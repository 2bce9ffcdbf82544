// Profile JSON: the shape a user reads, the round trip (exact state back, merges unchanged), and one clear
// line with exit code 2 for each way a reference file can be damaged or foreign.
import { describe, expect, it } from 'vitest';
import { exitCodeOf, SbError } from '../../src/errors.js';
import { parseProfile, parseRunProfile, profileText, profileToJson, runProfileToJson } from '../../src/monitor/json.js';
import { mergeProfiles, Profiler } from '../../src/monitor/profile.js';
import type { Profile } from '../../src/monitor/types.js';

function sample(offset = 0): Profile {
  const p = new Profiler([
    { name: 'tenure', kind: 'number' },
    { name: 'plan', kind: 'text' },
  ]);
  p.number('tenure').add(Float64Array.from({ length: 200 }, (_, i) => (i % 50 === 0 ? NaN : (i % 37) + offset + 0.25)));
  p.number('tenure').add(Float32Array.of(Infinity, -1.5));
  p.text('plan').add(Array.from({ length: 100 }, (_, i) => ['basic', 'pro', 'team', 'NA'][i % 4]));
  return p.finish();
}

const text = (p: Profile, ref?: Profile) => JSON.stringify(profileToJson(p, ref));

describe('profile JSON', () => {
  it('is readable: figures, histogram, exact state, sparse sketch', () => {
    const json = JSON.parse(text(sample())) as { version: number; columns: Record<string, unknown>[] };
    expect(json.version).toBe(1);
    const [tenure, plan] = json.columns;
    expect(tenure).toMatchObject({ name: 'tenure', kind: 'number', count: 202, missing: 4, infinite: 1, min: -1.5, max: 36.25 });
    expect(tenure.mean).toBeCloseTo((196 * 18.0051 - 1.5) / 197, 0);
    expect(tenure.sum).toMatch(/^\d+\*2\^-?\d+$/);
    expect((tenure.histogram as { binning: string }).binning).toBe('equal-frequency');
    expect((tenure.histogram as { counts: number[] }).counts.reduce((a, b) => a + b)).toBe(198);
    const runs = (tenure.sketch as { bits: number; runs: number[][] }).runs;
    expect(runs.flatMap((r) => r.slice(1)).reduce((a, b) => a + b)).toBe(198);
    expect(plan).toEqual({
      name: 'plan',
      kind: 'text',
      count: 100,
      missing: 25,
      distinct: 3,
      high_cardinality: false,
      histogram: { binning: 'top', values: ['basic', 'pro', 'team'], counts: [25, 25, 25], other: 0 },
      values: [['basic', 25], ['pro', 25], ['team', 25]],
    });
  });

  it('reads back to the same profile, which merges as before', () => {
    const a = sample();
    const b = sample(3.5);
    const a2 = parseProfile(text(a), 'a.json');
    const b2 = parseProfile(text(b), 'b.json');
    expect(a2).toEqual(a);
    expect(text(mergeProfiles(a2, b2))).toBe(text(mergeProfiles(a, b)));
  });

  it('bins a run on the reference: its numeric edges, its top values', () => {
    const reference = sample();
    const run = sample(3.5);
    const json = JSON.parse(text(run, reference)) as { columns: { histogram: { binning: string; edges?: number[]; values?: string[] } }[] };
    const ref = JSON.parse(text(reference)) as typeof json;
    expect(json.columns[0].histogram.binning).toBe('reference');
    expect(json.columns[0].histogram.edges).toEqual(ref.columns[0].histogram.edges);
    expect(json.columns[1].histogram).toMatchObject({ binning: 'reference', values: ['basic', 'pro', 'team'] });
  });
});

describe("a run's profile file", () => {
  it('holds the run and each input; its text reads back to the same data, lists of plain values on one line', () => {
    const a = sample();
    const b = sample(3);
    const data = runProfileToJson(mergeProfiles(a, b), [{ path: '/in/a.csv', profile: a }, { path: '/in/b.csv', profile: b }]);
    const written = profileText(data);
    expect(JSON.parse(written)).toEqual(JSON.parse(JSON.stringify(data)));
    expect(written).toMatch(/^ {4}"edges": \[[^\n]+\],$/m);
    const back = parseRunProfile(written, 'run.profile.json');
    expect(back.inputs.map((i) => i.path)).toEqual(['/in/a.csv', '/in/b.csv']);
    expect(back.inputs[1].profile).toEqual(b);
    expect(back.profile).toEqual(mergeProfiles(a, b));
    // A reference is read from the run's part alone.
    expect(parseProfile(written, 'run.profile.json')).toEqual(mergeProfiles(a, b));
  });
});

describe('damaged or foreign profile files', () => {
  const good = JSON.parse(text(sample())) as { columns: Record<string, unknown>[] };
  const edit = (f: (j: { version?: unknown; columns: Record<string, unknown>[] }) => void) => {
    const j = structuredClone(good);
    f(j);
    return JSON.stringify(j, null, 2);
  };
  const cases: [string, string, RegExp][] = [
    ['empty', '', /the file is empty/],
    ['cut short', text(sample()).slice(0, 120), /^ref\.json(:1:121)?: not a usable profile: invalid JSON/],
    ['not JSON', '{\n  "version": 1,\n  columns: []\n}', /^ref\.json:3:3: not a usable profile: invalid JSON/],
    ['a job file', JSON.stringify({ model: 'churn.onnx', input: 'in.csv' }), /it is not a serve-batch profile/],
    ['a list', '[1, 2]', /it is not a serve-batch profile/],
    ['a newer version', edit((j) => (j.version = 2)), /profile version 2 is newer than this serve-batch reads \(1\); update serve-batch, or make it again/],
    ['a version as text', edit((j) => (j.version = '1')), /version: Invalid input: expected 1/],
    ['a count as text', edit((j) => (j.columns[0].count = '202')), /columns\[0\]\.count: Invalid input: expected number, received string/],
    ['a negative count', edit((j) => (j.columns[1].missing = -1)), /columns\[1\]\.missing: Too small/],
    ['an unknown key', edit((j) => (j.columns[0].median = 3)), /columns\[0\]: Unrecognized key: "median"/],
    ['an unknown kind', edit((j) => (j.columns[1].kind = 'date')), /columns\[1\]\.kind: Invalid discriminator value\. Expected 'number' \| 'text'/],
    ['a sketch that does not add up', edit((j) => ((j.columns[0].sketch as { runs: number[][] }).runs[0][1] += 1)), /columns\[0\] \('tenure'\): the sketch holds 199 values, but count - missing is 198/],
    ['overlapping sketch runs', edit((j) => (j.columns[0].sketch as { runs: number[][] }).runs.reverse()), /sketch\.runs\[1\]: bucket keys must increase/],
    ['another sketch size', edit((j) => ((j.columns[0].sketch as { bits: number }).bits = 8)), /sketch\.bits: this serve-batch reads sketches of 7 bits, not 8/],
    ['a damaged exact sum', edit((j) => (j.columns[0].sum = '1.5e3')), /sum: expected an exact binary number like "12345\*2\^-20", got "1\.5e3"/],
    ['min above max', edit((j) => (j.columns[0].min = 99)), /min \(99\) is above max \(36\.25\)/],
    ['min missing', edit((j) => (j.columns[0].min = null)), /min and max must be numbers when there are finite values \(197\)/],
    ['a column twice', edit((j) => j.columns.push(j.columns[0])), /columns\[2\] \('tenure'\): the column appears twice/],
    ['text counts that do not add up', edit((j) => ((j.columns[1].values as [string, number][])[0][1] = 26)), /\('plan'\): values add up to 76, but count - missing is 75/],
    ['a missing value among the values', edit((j) => (j.columns[1].values as [string, number][]).push(['NA', 1])), /"NA" is a missing value/],
    ['high cardinality with values', edit((j) => (j.columns[1].high_cardinality = true)), /values must be null exactly when high_cardinality is true/],
  ];

  it.each(cases)('%s: one line naming the file and the problem, exit code 2', (_, content, expected) => {
    let caught: unknown;
    try {
      parseProfile(content, 'ref.json');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SbError);
    const err = caught as SbError;
    expect(err.code).toBe('JOB_INVALID');
    expect(exitCodeOf(err)).toBe(2);
    const line = err.describe();
    expect(line).toMatch(/^ref\.json(:\d+:\d+)?: not a usable profile: /);
    expect(line).toMatch(expected);
    expect(line).not.toContain('\n');
    expect(line.endsWith('make it again with serve-batch profile')).toBe(true);
  });

  it('a shard profile fails with the code and hint given', () => {
    expect(() => parseProfile('[]', 'shard-2/profile.json', { code: 'SHARDS', hint: 'run shard 2 again' })).toThrow(
      expect.objectContaining({ code: 'SHARDS', message: 'not a usable profile: it is not a serve-batch profile (no "version" and "columns" at the top); run shard 2 again' }),
    );
  });

  it('profiles of different columns do not merge', () => {
    const other = new Profiler([{ name: 'tenure', kind: 'text' }]).finish();
    expect(() => mergeProfiles(sample(), other)).toThrow(expect.objectContaining({ code: 'SHARDS', message: 'profiles of different columns cannot be merged: [tenure (number), plan (text)] and [tenure (text)]' }));
  });
});
