// The streaming profile of one text column: exact counts of each distinct value, up to a cap.
//
// Missing cells are the empty cell and the NA strings (after trimming spaces and tabs), as for number
// cells; holes (undefined) count as missing too. Counts are exact, so they do not depend on the order of
// the values. Past TEXT_DISTINCT_CAP distinct non-missing values the column is marked high-cardinality and
// keeps only its count and missing count: the number of distinct values only grows as values come in, so
// whether a column passes the cap depends on its values alone, never on the chunking or the merges.
import { isMissingText, NA_VALUES } from '../table/numbers.js';
import type { TextColumnProfile } from './types.js';

/** Distinct non-missing values kept per text column. */
export const TEXT_DISTINCT_CAP = 10_000;

export class TextProfiler {
  private rows = 0;
  /** Missing values seen after the column passed the cap. */
  private missingPastCap = 0;
  /** Value → slot in keys/counts; null once the column is high-cardinality. */
  private index: Map<string | undefined, number> | null = new Map();
  private keys: (string | undefined)[] = [];
  private counts = new Float64Array(64);
  private isMissing = new Uint8Array(64);
  private distinct = 0;

  constructor(readonly name: string) {}

  // Add the first n values.
  add(values: readonly (string | undefined)[], n = values.length): void {
    if (n > values.length) throw new RangeError(`profile of '${this.name}': ${n} values asked of an array of ${values.length}`);
    this.rows += n;
    let i = 0;
    const index = this.index;
    if (index) {
      for (; i < n; i++) {
        const v = values[i];
        const at = index.get(v);
        if (at !== undefined) this.counts[at]++;
        else if (!this.insert(index, v)) {
          i++;
          break;
        }
      }
    }
    let missing = 0;
    for (; i < n; i++) if (isMissing(values[i])) missing++;
    this.missingPastCap += missing;
  }

  // The finished column.
  finish(): TextColumnProfile {
    let missing = this.missingPastCap;
    const values: [string, number][] = [];
    for (let at = 0; at < this.keys.length; at++) {
      if (this.isMissing[at]) missing += this.counts[at];
      else values.push([this.keys[at] as string, this.counts[at]]);
    }
    return { kind: 'text', name: this.name, count: this.rows, missing, values: this.index ? sortValues(values) : null };
  }

  // A first occurrence of v, counted once; false when it takes the column past the cap.
  private insert(index: Map<string | undefined, number>, v: string | undefined): boolean {
    const missing = isMissing(v);
    if (!missing && this.distinct === TEXT_DISTINCT_CAP) {
      for (let at = 0; at < this.keys.length; at++) if (this.isMissing[at]) this.missingPastCap += this.counts[at];
      this.index = null;
      this.keys = [];
      this.counts = new Float64Array(0);
      return false;
    }
    const at = this.keys.length;
    if (at === this.counts.length) {
      const counts = new Float64Array(at * 2);
      counts.set(this.counts);
      this.counts = counts;
      const flags = new Uint8Array(at * 2);
      flags.set(this.isMissing);
      this.isMissing = flags;
    }
    this.keys.push(v);
    this.counts[at] = 1;
    this.isMissing[at] = missing ? 1 : 0;
    if (!missing) this.distinct++;
    index.set(v, at);
    return true;
  }
}

const LONGEST_NA = Math.max(...[...NA_VALUES].map((s) => s.length));

// Whether a cell is missing: a hole, empty, or an NA string once spaces and tabs are trimmed. A value longer
// than every NA string with no space or tab at either end needs no Set lookup.
function isMissing(v: string | undefined): boolean {
  if (v === undefined) return true;
  const n = v.length;
  if (n > LONGEST_NA) {
    const a = v.charCodeAt(0);
    const b = v.charCodeAt(n - 1);
    if (a !== 32 && a !== 9 && b !== 32 && b !== 9) return false;
  }
  return isMissingText(v);
}

// Values by count, most frequent first, ties in code-unit order of the value (a canonical order).
export function sortValues(values: [string, number][]): [string, number][] {
  return values.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
