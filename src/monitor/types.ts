// The finished profile: exact, mergeable state per column, from which every figure (mean, std, histograms,
// drift) is derived. Two profiles of the same values are equal, whatever the chunks and merges.
import type { Sketch } from './sketch.js';

export const PROFILE_VERSION = 1;

export interface NumberColumnProfile {
  kind: 'number';
  name: string;
  /** Values seen, missing and infinite ones included. */
  count: number;
  /** NaN values. */
  missing: number;
  /** ±Infinity values (in count and the histogram, not in min/max/mean/std). */
  infinite: number;
  /** Of the finite values; null when there are none. */
  min: number | null;
  max: number | null;
  /** Exact Σx of the finite values, in units of 2^SUM_EXP. */
  sum: bigint;
  /** Exact Σx² of the finite values, in units of 2^SQUARES_EXP. */
  squares: bigint;
  /** Bucket counts of the non-missing values. */
  sketch: Sketch;
}

export interface TextColumnProfile {
  kind: 'text';
  name: string;
  count: number;
  /** Empty cells and NA strings (the same ones as for number cells). */
  missing: number;
  /** Every distinct non-missing value with its count, most frequent first (ties by value); null when the
   *  column has more than TEXT_DISTINCT_CAP distinct values. */
  values: [string, number][] | null;
}

export type ColumnProfile = NumberColumnProfile | TextColumnProfile;

export interface Profile {
  version: typeof PROFILE_VERSION;
  columns: ColumnProfile[];
}

/** A numeric histogram: bins (-inf, e0), [e0, e1), ..., [e_last, +inf); counts has edges.length + 1 entries. */
export interface NumberHistogram {
  edges: number[];
  counts: number[];
}

/** A text histogram: the counts of the named values and of every other value. */
export interface TextHistogram {
  values: string[];
  counts: number[];
  other: number;
}
