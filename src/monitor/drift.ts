// Drift of a run's column against the same column of a reference profile.
//
// Bins. Missing values are in no bin (their share is compared on its own: missingRate). A numeric column
// uses the reference's histogram edges e_0 < ... < e_{K-2} (up to 19 edges from its sketch: equal-frequency
// bins, see equalFrequencyEdges), the K bins being (-inf, e_0), [e_0, e_1), ..., [e_{K-2}, +inf); ±Infinity
// fall in the outer bins. A text column uses the reference's 20 most frequent values plus one bin "other"
// for every other non-missing value. Both columns are counted on these bins: r_i for the reference (R in
// all), a_i for the run (A in all); the shares are q_i = r_i / R and p_i = a_i / A.
//
// PSI (population stability index, natural logarithm), with shares below EPSILON = 0.0001 raised to it so
// that empty bins stay finite:
//     p'_i = max(p_i, EPSILON), q'_i = max(q_i, EPSILON)
//     PSI  = Σ_i (p'_i − q'_i) · ln(p'_i / q'_i)
// Jensen–Shannon distance (base-2 logarithm, so it lies in [0, 1]; no smoothing, 0·log 0 = 0), equal to
// scipy.spatial.distance.jensenshannon(p, q, base=2):
//     m_i = (p_i + q_i) / 2
//     JS  = sqrt( ½ Σ_{p_i>0} p_i·log2(p_i / m_i) + ½ Σ_{q_i>0} q_i·log2(q_i / m_i) )
// Both are 0 when the shares are equal. The sums run over the bins in order, on exact counts, so the values
// are the same run to run. Undefined (null, with a note) when either side has no non-missing value, or a
// text column has too many distinct values on either side to be counted (TEXT_DISTINCT_CAP).
import { missingRate, numberHistogram, textHistogram } from './profile.js';
import type { ColumnProfile, Profile } from './types.js';

const EPSILON = 1e-4;

export interface ColumnDrift {
  column: string;
  psi: number | null;
  js: number | null;
  /** Counts per bin (reference, run); empty when the drift is undefined. */
  reference: number[];
  run: number[];
  /** Missing shares (missing / count) of the reference and the run. */
  referenceMissingRate: number;
  missingRate: number;
  /** Why psi and js are null. */
  note?: string;
}

// PSI of the run's bin counts against the reference's (formula above); null when a side is empty.
export function psi(reference: readonly number[], run: readonly number[]): number | null {
  const R = total(reference);
  const A = total(run);
  if (R === 0 || A === 0) return null;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = Math.max(run[i] / A, EPSILON);
    const q = Math.max(reference[i] / R, EPSILON);
    sum += (p - q) * Math.log(p / q);
  }
  return sum;
}

// Jensen–Shannon distance (base 2) between the run's and the reference's bin shares; null when a side is empty.
export function jsDistance(reference: readonly number[], run: readonly number[]): number | null {
  const R = total(reference);
  const A = total(run);
  if (R === 0 || A === 0) return null;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = run[i] / A;
    const q = reference[i] / R;
    const m = (p + q) / 2;
    if (p > 0) sum += p * Math.log2(p / m);
    if (q > 0) sum += q * Math.log2(q / m);
  }
  // Rounding can leave a hair below zero for near-equal shares.
  return Math.sqrt(Math.max(0, sum / 2));
}

// Drift of one column against the reference's column of the same name and kind.
export function columnDrift(run: ColumnProfile, reference: ColumnProfile): ColumnDrift {
  const base = { column: run.name, referenceMissingRate: missingRate(reference), missingRate: missingRate(run) };
  const none = (note: string): ColumnDrift => ({ ...base, psi: null, js: null, reference: [], run: [], note });
  if (run.kind !== reference.kind) return none(`the reference profiles it as ${reference.kind}, this run as ${run.kind}`);
  let r: number[];
  let a: number[];
  if (reference.kind === 'number' && run.kind === 'number') {
    const h = numberHistogram(reference);
    r = h.counts;
    a = numberHistogram(run, h.edges).counts;
  } else if (reference.kind === 'text' && run.kind === 'text') {
    const h = textHistogram(reference);
    if (!h) return none('the reference has too many distinct values to compare');
    const ha = textHistogram(run, h.values);
    if (!ha) return none('this run has too many distinct values to compare');
    r = [...h.counts, h.other];
    a = [...ha.counts, ha.other];
  } else throw new Error('internal: column kinds');
  if (total(r) === 0) return none('the reference has no values in this column');
  if (total(a) === 0) return none('this run has no values in this column');
  return { ...base, psi: psi(r, a), js: jsDistance(r, a), reference: r, run: a };
}

// Drift of each named column (default: every column of the run) against the reference.
export function profileDrift(run: Profile, reference: Profile, columns?: readonly string[]): ColumnDrift[] {
  const names = columns ?? run.columns.map((c) => c.name);
  return names.map((name) => {
    const a = run.columns.find((c) => c.name === name);
    const r = reference.columns.find((c) => c.name === name);
    if (a && r) return columnDrift(a, r);
    const note = a ? 'the reference has no such column' : 'this run has no such column';
    return { column: name, psi: null, js: null, reference: [], run: [], referenceMissingRate: r ? missingRate(r) : 0, missingRate: a ? missingRate(a) : 0, note };
  });
}

function total(counts: readonly number[]): number {
  let s = 0;
  for (const c of counts) s += c;
  return s;
}
