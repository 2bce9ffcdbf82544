// Drift values against a computation written out plainly here from raw values: bins from the reference file's
// edges and top values, shares, PSI with the 0.0001 floor, Jensen–Shannon distance in base 2.
import { describe, expect, it } from 'vitest';
import { columnDrift, jsDistance, profileDrift, psi } from '../../src/monitor/drift.js';
import { profileToJson } from '../../src/monitor/json.js';
import { Profiler } from '../../src/monitor/profile.js';
import type { Profile } from '../../src/monitor/types.js';

// Seeded uniform numbers (mulberry32) and standard normals (Box–Muller).
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normals(n: number, mean: number, seed: number): Float32Array {
  const u = random(seed);
  return Float32Array.from({ length: n }, () => mean + Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
}

// Categories drawn with the given weights.
function categories(n: number, weights: Record<string, number>, seed: number): string[] {
  const u = random(seed);
  const names = Object.keys(weights);
  const total = names.reduce((s, k) => s + weights[k], 0);
  return Array.from({ length: n }, () => {
    let x = u() * total;
    for (const k of names) {
      x -= weights[k];
      if (x < 0) return k;
    }
    return names[names.length - 1];
  });
}

function profileOf(x: Float32Array, plan: string[]): Profile {
  const p = new Profiler([
    { name: 'x', kind: 'number' },
    { name: 'plan', kind: 'text' },
  ]);
  p.number('x').add(x);
  p.text('plan').add(plan);
  return p.finish();
}

// The formulas of the documentation, on raw values, with nothing from the profile code but the bins.
function plainPsi(ref: number[], run: number[]): number {
  const R = ref.reduce((a, b) => a + b);
  const A = run.reduce((a, b) => a + b);
  let s = 0;
  ref.forEach((r, i) => {
    const q = Math.max(r / R, 0.0001);
    const p = Math.max(run[i] / A, 0.0001);
    s += (p - q) * Math.log(p / q);
  });
  return s;
}

function plainJs(ref: number[], run: number[]): number {
  const R = ref.reduce((a, b) => a + b);
  const A = run.reduce((a, b) => a + b);
  const kl = (a: number[], b: number[]) => a.reduce((s, ai, i) => (ai > 0 ? s + ai * Math.log2(ai / b[i]) : s), 0);
  const p = run.map((c) => c / A);
  const q = ref.map((c) => c / R);
  const m = p.map((pi, i) => (pi + q[i]) / 2);
  return Math.sqrt(0.5 * kl(p, m) + 0.5 * kl(q, m));
}

function binned(values: Float32Array, edges: number[]): number[] {
  const counts = new Array(edges.length + 1).fill(0);
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    let b = 0;
    while (b < edges.length && v >= edges[b]) b++;
    counts[b]++;
  }
  return counts;
}

function tallied(values: string[], top: string[]): number[] {
  const counts = new Array(top.length + 1).fill(0);
  for (const v of values) {
    if (v === '' || v === 'NA') continue;
    const i = top.indexOf(v);
    counts[i === -1 ? top.length : i]++;
  }
  return counts;
}

describe('drift', () => {
  const n = 40_000;
  const refX = normals(n, 0, 1);
  const runX = normals(n, 0.5, 2);
  const weights = { basic: 40, plus: 25, pro: 15, team: 10, trial: 5, '': 5 };
  const refPlan = categories(n, weights, 3);
  const runPlan = categories(n, { ...weights, pro: 30 }, 4); // pro's weight doubled
  const reference = profileOf(refX, refPlan);
  const run = profileOf(runX, runPlan);
  // What a user has: the reference file, with its edges and top values.
  const refJson = JSON.parse(JSON.stringify(profileToJson(reference))) as { columns: { histogram: { edges?: number[]; values?: string[] } }[] };
  const edges = refJson.columns[0].histogram.edges as number[];
  const top = refJson.columns[1].histogram.values as string[];

  it('PSI and JS distance of a shifted normal column equal the plain computation', () => {
    expect(edges).toHaveLength(19);
    const d = columnDrift(run.columns[0], reference.columns[0]);
    expect(d.reference).toEqual(binned(refX, edges));
    expect(d.run).toEqual(binned(runX, edges));
    expect(d.psi).toBeCloseTo(plainPsi(binned(refX, edges), binned(runX, edges)), 12);
    expect(d.js).toBeCloseTo(plainJs(binned(refX, edges), binned(runX, edges)), 12);
    // A shift of half a standard deviation: PSI near its continuous value μ² = 0.25, JS well inside (0, 1).
    expect(d.psi).toBeGreaterThan(0.2);
    expect(d.psi).toBeLessThan(0.3);
    expect(d.js).toBeGreaterThan(0.1);
    expect(d.js).toBeLessThan(0.3);
  });

  it('PSI and JS distance of a category whose share doubled equal the plain computation', () => {
    expect(top).toEqual(['basic', 'plus', 'pro', 'team', 'trial']);
    const d = columnDrift(run.columns[1], reference.columns[1]);
    expect(d.reference).toEqual(tallied(refPlan, top));
    expect(d.run).toEqual(tallied(runPlan, top));
    expect(d.psi).toBeCloseTo(plainPsi(tallied(refPlan, top), tallied(runPlan, top)), 12);
    expect(d.js).toBeCloseTo(plainJs(tallied(refPlan, top), tallied(runPlan, top)), 12);
    expect(d.psi).toBeGreaterThan(0.05);
    expect(d.missingRate).toBeCloseTo(5 / 110, 2);
    expect(d.referenceMissingRate).toBeCloseTo(5 / 95, 2);
  });

  it('is exactly 0 for the same data, however it was chunked', () => {
    const p = new Profiler([
      { name: 'x', kind: 'number' },
      { name: 'plan', kind: 'text' },
    ]);
    for (let i = 0; i < n; i += 777) {
      p.number('x').add(refX.subarray(i, i + 777));
      p.text('plan').add(refPlan.slice(i, i + 777));
    }
    for (const d of profileDrift(p.finish(), reference)) {
      expect(d.psi).toBe(0);
      expect(d.js).toBe(0);
    }
  });

  it('catches a constant column that moved, values beyond the reference, and a new category', () => {
    const constant = (v: number, plan: string) => profileOf(new Float32Array(100).fill(v), new Array(100).fill(plan));
    const [x, plan] = profileDrift(constant(5, 'new'), constant(0, 'basic'));
    expect(x.reference).toEqual([0, 100, 0]);
    expect(x.run).toEqual([0, 0, 100]);
    expect(x.js).toBe(1);
    expect(plan.reference).toEqual([100, 0]);
    expect(plan.run).toEqual([0, 100]);
    expect(plan.js).toBe(1);
    expect(x.psi).toBeCloseTo(2 * (1 - 0.0001) * Math.log(1 / 0.0001), 12);
  });

  it('agrees with scipy on a fixed example', () => {
    // scipy 1.17.1: jensenshannon(p, q, base=2) and the PSI formula in numpy, p = run shares, q = reference's.
    expect(jsDistance([10, 20, 30, 0], [30, 20, 5, 5])).toBeCloseTo(0.47293699167413084, 14);
    expect(psi([10, 20, 30, 0], [30, 20, 5, 5])).toBeCloseTo(1.6725508085445226, 14);
  });

  it('is undefined, with a reason, where it cannot be computed', () => {
    const empty = profileOf(new Float32Array(3).fill(NaN), ['', 'NA', '']);
    const [x, plan] = profileDrift(empty, reference);
    expect(x).toMatchObject({ psi: null, js: null, missingRate: 1, note: 'this run has no values in this column' });
    expect(plan.note).toBe('this run has no values in this column');
    const [gone] = profileDrift(reference, reference, ['nope']);
    expect(gone.note).toBe('this run has no such column');
    const wide = new Profiler([{ name: 'plan', kind: 'text' }]);
    wide.text('plan').add(Array.from({ length: 10_001 }, (_, i) => `id${i}`));
    expect(profileDrift(wide.finish(), reference)[0].note).toBe('this run has too many distinct values to compare');
    expect(psi([0, 0], [1, 2])).toBeNull();
    expect(jsDistance([1, 2], [0, 0])).toBeNull();
  });
});
