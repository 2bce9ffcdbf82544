// Profile ⇄ JSON: the reference file and the profile stored beside a run record.
//
// The JSON holds the exact state (counts, min/max, exact sums as "m*2^e" text, sparse sketch, every text
// value with its count), so profiles read back merge exactly like the ones in memory, and the figures read
// from it (mean, std, histogram) for people and other tools; those are recomputed on reading, never trusted.
// A sketch is a list of runs [first key, count, count, ...] over consecutive bucket keys (gaps of up to two
// empty buckets are written as zeros); bucket k holds the values v with lower(k) ≤ v < lower(k + 1), where
// lower(k) is the float32 whose bits, read as a sign-magnitude integer, equal k·65536 − 2^31 (sketch.ts). The validator reports the first problem of a damaged or foreign file
// as one line naming the file and the place in it.
import { z } from 'zod';
import { isMissingText } from '../table/numbers.js';
import { SbError, type ErrorCode } from '../errors.js';
import { formatScaled, parseScaled, SQUARES_EXP, SUM_EXP } from './exact.js';
import { meanOf, numberHistogram, stdOf, textHistogram } from './profile.js';
import { POS_INF_KEY, SKETCH_BITS, SKETCH_KEYS, type Sketch } from './sketch.js';
import { sortValues, TEXT_DISTINCT_CAP } from './text.js';
import { PROFILE_VERSION, type ColumnProfile, type NumberColumnProfile, type Profile, type TextColumnProfile } from './types.js';
import { unredactDeep } from '../util/redact.js';

/** Empty buckets written inside a run rather than starting a new one (a run costs two numbers more). */
const RUN_GAP = 2;

// The profile as plain JSON data. With a reference, histograms are on the reference's bins (its numeric
// edges, its top text values) for the columns it has with the same kind.
export function profileToJson(profile: Profile, reference?: Profile): unknown {
  return { version: profile.version, columns: profile.columns.map((c) => columnToJson(c, reference?.columns.find((r) => r.name === c.name && r.kind === c.kind))) };
}

function columnToJson(c: ColumnProfile, ref: ColumnProfile | undefined): unknown {
  if (c.kind === 'number') {
    const edges = ref?.kind === 'number' ? numberHistogram(ref).edges : undefined;
    return {
      name: c.name,
      kind: c.kind,
      count: c.count,
      missing: c.missing,
      infinite: c.infinite,
      min: c.min,
      max: c.max,
      mean: meanOf(c),
      std: stdOf(c),
      histogram: { binning: edges ? 'reference' : 'equal-frequency', ...numberHistogram(c, edges) },
      sum: formatScaled(c.sum, SUM_EXP),
      sum_squares: formatScaled(c.squares, SQUARES_EXP),
      sketch: { bits: SKETCH_BITS, runs: sketchRuns(c.sketch) },
    };
  }
  const refValues = ref?.kind === 'text' ? textHistogram(ref)?.values : undefined;
  const histogram = textHistogram(c, refValues);
  return {
    name: c.name,
    kind: c.kind,
    count: c.count,
    missing: c.missing,
    distinct: c.values ? c.values.length : null,
    high_cardinality: c.values === null,
    histogram: histogram && { binning: refValues ? 'reference' : 'top', ...histogram },
    values: c.values,
  };
}

// Sparse sketch → runs of consecutive keys.
function sketchRuns(s: Sketch): number[][] {
  const runs: number[][] = [];
  let run: number[] | undefined;
  let next = -1;
  for (let i = 0; i < s.keys.length; i++) {
    const key = s.keys[i];
    if (run && key - next <= RUN_GAP) {
      for (; next < key; next++) run.push(0);
    } else {
      run = [key];
      runs.push(run);
    }
    run.push(s.counts[i]);
    next = key + 1;
  }
  return runs;
}

const whole = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const scaled = z.string();
const numberColumn = z.strictObject({
  name: z.string().min(1),
  kind: z.literal('number'),
  count: whole,
  missing: whole,
  infinite: whole,
  min: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable().optional(),
  std: z.number().nullable().optional(),
  histogram: z.unknown().optional(),
  sum: scaled,
  sum_squares: scaled,
  sketch: z.strictObject({ bits: z.number(), runs: z.array(z.array(whole).min(2)) }),
});
const textColumn = z.strictObject({
  name: z.string().min(1),
  kind: z.literal('text'),
  count: whole,
  missing: whole,
  distinct: z.unknown().optional(),
  high_cardinality: z.boolean(),
  histogram: z.unknown().optional(),
  values: z.array(z.tuple([z.string(), whole.min(1)])).nullable(),
});
const columnsSchema = z.array(z.discriminatedUnion('kind', [numberColumn, textColumn]));
const profileSchema = z.strictObject({
  version: z.literal(PROFILE_VERSION),
  columns: columnsSchema,
  /** A run's profile file: the profile of each input (or shard piece) it scored, in order. */
  inputs: z.array(z.strictObject({ path: z.string(), columns: columnsSchema })).optional(),
});

// JSON text for people and diffs: one key per line, but a list of plain values (a sketch run, edges, counts,
// a [value, count] pair) on one line: indenting every number made a 30-column profile 2.8 MB instead of ~1.
export function profileText(data: unknown, indent = ''): string {
  if (data === null || typeof data !== 'object') return JSON.stringify(data) ?? 'null';
  const inner = `${indent} `;
  if (Array.isArray(data)) {
    if (data.every((x) => x === null || typeof x !== 'object')) return JSON.stringify(data);
    return data.length === 0 ? '[]' : `[\n${data.map((x) => inner + profileText(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(data).filter(([, v]) => v !== undefined);
  return entries.length === 0 ? '{}' : `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${profileText(v, inner)}`).join(',\n')}\n${indent}}`;
}

/** The profile of one input of a run. */
export interface InputProfile {
  path: string;
  profile: Profile;
}

// A run's profile file as JSON data: the run's profile, then each input's (histograms on the reference's bins
// when there is one).
export function runProfileToJson(run: Profile, inputs: readonly InputProfile[], reference?: Profile): unknown {
  const top = profileToJson(run, reference) as { version: number; columns: unknown[] };
  return { ...top, inputs: inputs.map((i) => ({ path: i.path, columns: (profileToJson(i.profile, reference) as { columns: unknown[] }).columns })) };
}

export interface ParseOptions {
  /** Error code of a bad file (JOB_INVALID for a reference named in a job, SHARDS for a shard's profile). */
  code?: ErrorCode;
  /** How to fix a bad file, appended to the message. */
  hint?: string;
}

// A profile from its JSON text; a damaged or foreign file throws one SbError naming the file and the problem.
export function parseProfile(text: string, file: string, options: ParseOptions = {}): Profile {
  return parseRunProfile(text, file, options).profile;
}

// A run's profile file: the run's profile and each input's (none for a reference made by `profile`).
export function parseRunProfile(text: string, file: string, options: ParseOptions = {}): { profile: Profile; inputs: InputProfile[] } {
  const code = options.code ?? 'JOB_INVALID';
  const hint = options.hint ?? 'make it again with serve-batch profile';
  const fail = (problem: string, where: { line?: number; column?: number } = {}, fix = hint): never => {
    throw new SbError(code, `not a usable profile: ${problem}; ${fix}`, { file, ...where });
  };
  if (text.trim() === '') return fail('the file is empty');
  let raw: unknown;
  try {
    // A profile this process wrote shows values from the environment as ${NAME} (run/monitor.ts): the same job's
    // columns are named again.
    raw = unredactDeep(JSON.parse(text));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = /at position (\d+)/.exec(message);
    return fail(`invalid JSON (${message.replace(/ in JSON at position \d+.*$/, '').replace(/, (\.\.\.)?".*$/s, '')})`, at ? lineColumn(text, Number(at[1])) : {});
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('version' in raw) || !('columns' in raw)) {
    return fail('it is not a serve-batch profile (no "version" and "columns" at the top)');
  }
  const version = (raw as { version: unknown }).version;
  if (typeof version === 'number' && version > PROFILE_VERSION) {
    return fail(`profile version ${version} is newer than this serve-batch reads (${PROFILE_VERSION})`, {}, `update serve-batch, or ${hint}`);
  }
  const parsed = profileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`${jsonPath(issue.path)}: ${issue.message}`);
  }
  const read = (raw: z.infer<typeof columnsSchema>, at: string): Profile => {
    const names = new Set<string>();
    const columns = raw.map((c, i) => {
      const where = `${at}columns[${i}] ('${c.name}')`;
      if (names.has(c.name)) fail(`${where}: the column appears twice`);
      names.add(c.name);
      const col = c.kind === 'number' ? readNumberColumn(c) : readTextColumn(c);
      if (typeof col === 'string') return fail(`${where}: ${col}`);
      return col;
    });
    return { version: PROFILE_VERSION, columns };
  };
  const profile = read(parsed.data.columns, '');
  const inputs = (parsed.data.inputs ?? []).map((input, i) => ({ path: input.path, profile: read(input.columns, `inputs[${i}].`) }));
  return { profile, inputs };
}

type RawNumber = z.infer<typeof numberColumn>;
type RawText = z.infer<typeof textColumn>;

// A numeric column from checked JSON, or what is wrong with it.
function readNumberColumn(c: RawNumber): NumberColumnProfile | string {
  if (c.missing + c.infinite > c.count) return `missing (${c.missing}) and infinite (${c.infinite}) add up to more than count (${c.count})`;
  const finite = c.count - c.missing - c.infinite;
  if ((c.min === null) !== (finite === 0) || (c.max === null) !== (finite === 0)) return `min and max must be numbers when there are finite values (${finite}), null otherwise`;
  if (c.min !== null && c.max !== null && !(c.min <= c.max)) return `min (${c.min}) is above max (${c.max})`;
  const sum = parseScaled(c.sum, SUM_EXP);
  if (sum === undefined) return `sum: expected an exact binary number like "12345*2^-20", got ${JSON.stringify(c.sum)}`;
  const squares = parseScaled(c.sum_squares, SQUARES_EXP);
  if (squares === undefined || squares < 0n) return `sum_squares: expected a non-negative exact binary number like "12345*2^-20", got ${JSON.stringify(c.sum_squares)}`;
  if (c.sketch.bits !== SKETCH_BITS) return `sketch.bits: this serve-batch reads sketches of ${SKETCH_BITS} bits, not ${c.sketch.bits}`;
  const sketch: Sketch = { keys: [], counts: [] };
  let next = 0;
  for (let r = 0; r < c.sketch.runs.length; r++) {
    const [start, ...counts] = c.sketch.runs[r];
    if (start < next || start + counts.length > SKETCH_KEYS) return `sketch.runs[${r}]: bucket keys must increase from run to run and stay below ${SKETCH_KEYS}`;
    counts.forEach((n, k) => {
      if (n > 0) {
        sketch.keys.push(start + k);
        sketch.counts.push(n);
      }
    });
    next = start + counts.length;
  }
  const inSketch = sketch.counts.reduce((a, n) => a + n, 0);
  if (inSketch !== c.count - c.missing) return `the sketch holds ${inSketch} values, but count - missing is ${c.count - c.missing}`;
  // +Infinity has a bucket of its own (-Infinity shares one with finite doubles below -2^128).
  const last = sketch.keys.length - 1;
  const positive = last >= 0 && sketch.keys[last] === POS_INF_KEY ? sketch.counts[last] : 0;
  if (positive > c.infinite) return `the sketch holds ${positive} values +Infinity, but infinite is ${c.infinite}`;
  return { kind: 'number', name: c.name, count: c.count, missing: c.missing, infinite: c.infinite, min: c.min === null ? null : c.min + 0, max: c.max === null ? null : c.max + 0, sum, squares, sketch };
}

// A text column from checked JSON, or what is wrong with it.
function readTextColumn(c: RawText): TextColumnProfile | string {
  if (c.missing > c.count) return `missing (${c.missing}) is more than count (${c.count})`;
  if (c.high_cardinality !== (c.values === null)) return 'values must be null exactly when high_cardinality is true';
  if (c.values) {
    if (c.values.length > TEXT_DISTINCT_CAP) return `values: ${c.values.length} distinct values, more than the ${TEXT_DISTINCT_CAP} a profile keeps`;
    const seen = new Set<string>();
    let sum = 0;
    for (const [v, n] of c.values) {
      if (seen.has(v)) return `values: ${JSON.stringify(v)} appears twice`;
      if (isMissingText(v)) return `values: ${JSON.stringify(v)} is a missing value, counted in missing, not among the values`;
      seen.add(v);
      sum += n;
    }
    if (sum !== c.count - c.missing) return `values add up to ${sum}, but count - missing is ${c.count - c.missing}`;
  }
  return { kind: 'text', name: c.name, count: c.count, missing: c.missing, values: c.values && sortValues(c.values.map(([v, n]) => [v, n])) };
}

// `columns[2].sketch.runs` from a zod path.
function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || 'the top level';
}

// 1-based line and column of a character offset.
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
