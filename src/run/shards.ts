// Sharding: one job run as N workers (Kubernetes Indexed Jobs, CI matrices), each scoring a deterministic
// share of the inputs, with no coordinator. Every worker computes the same plan from the same listing, so
// they agree without talking to each other.
//
// The plan lays the sorted inputs end to end as one line of bytes and cuts it at k·total/N (k = 1..N-1). A
// cut that falls inside a file is moved to the nearest place where that file can be cut (a line start in
// CSV without quote characters and in JSON Lines, a row-group start in Parquet) or, for a file that cannot be
// cut (gzip, quoted CSV, one row group), to the nearer end of the file. Worker k scores everything between
// cuts k and k+1, so the shards are contiguous in input order: shard 0's rows, then shard 1's, ... are the
// rows of one unsharded run, and `merge` is a concatenation. Each worker gets total/N bytes, give or take one
// piece that could not be cut.
//
// This file is pure: the places a file can be cut come from src/io/split.ts, which reads the files.
import { createHash } from 'node:crypto';
import type { CutPoint, SplitDecision } from '../io/split.js';
import { stableJson } from './ledger.js';

/** This worker's place: shard `index` of `count` (0 ≤ index < count). */
export interface ShardSpec {
  index: number;
  count: number;
}

/** The most workers a plan is made for (a bound on mistakes, not on the design). */
const MAX_SHARDS = 10_000;

export interface Piece {
  path: string;
  /** Bytes of the piece (of the file, for a whole file). */
  bytes: number;
  /** Bytes of the whole file. */
  fileBytes: number;
  /** Absent: the whole file. */
  range?: { start: CutPoint; end: CutPoint };
  /** CSV/TSV piece starting mid-file: the column names it reads with (the file's first record). */
  header?: string[];
}

export interface ShardPlan {
  count: number;
  /** The pieces of each shard, in input order. */
  shards: Piece[][];
  splits: SplitDecision[];
  /** sha256 of the plan: workers that planned from the same listing have the same hash. */
  hash: string;
  totalBytes: number;
}

export interface PlanFile {
  path: string;
  bytes: number;
}

/** A cut the plan wants inside a file, before it is moved to a place the file can be cut. */
export interface WantedCut {
  /** Which cut (1..count-1). */
  cut: number;
  file: number;
  /** Byte offset inside the file, 0 < offset < bytes. */
  offset: number;
}

/** A cut at its final place: at (or inside) a file. */
export interface PlacedCut {
  file: number;
  at: CutPoint;
}

// `2/8` → { index: 2, count: 8 }; undefined → a one-line message.
export function parseShard(raw: string): ShardSpec | string {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  if (!m) return `give the worker's shard as i/N with 0 ≤ i < N, e.g. 2/8 (got '${raw}')`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  const problem = shardCountProblem(count, 'N');
  if (problem) return `${problem} (got '${raw}')`;
  if (index >= count) return `the shard index counts from 0: i/N needs 0 ≤ i < N, so the last of ${count} is ${count - 1}/${count} (got '${raw}')`;
  return { index, count };
}

// Why `count` cannot be a number of shards, or undefined when it can.
export function shardCountProblem(count: number, what = 'the number of shards'): string | undefined {
  if (!Number.isSafeInteger(count) || count < 1) return `${what} must be a whole number, 1 or more`;
  if (count > MAX_SHARDS) return `${what} must be at most ${MAX_SHARDS}`;
  return undefined;
}

// The {shard} token: the index, zero-padded to the width of the last index, so part files sort in order.
export function shardTag(s: ShardSpec): string {
  return String(s.index).padStart(String(s.count - 1).length, '0');
}

// The name of a shard's state (lock, crash journal, run records): `<job>.shard-<i>-of-<N>`.
export function shardStateName(job: string, s: ShardSpec): string {
  return `${job}.shard-${s.index}-of-${s.count}`;
}

// The cuts at k·total/N that fall strictly inside a file (cuts at a file's start need no moving).
export function wantedCuts(files: PlanFile[], count: number): WantedCut[] {
  const total = files.reduce((n, f) => n + f.bytes, 0);
  const out: WantedCut[] = [];
  let f = 0;
  let start = 0;
  for (let k = 1; k < count; k++) {
    // Exact integer arithmetic: every worker must compute the same offsets.
    const g = Number((BigInt(total) * BigInt(k)) / BigInt(count));
    while (f < files.length && start + files[f].bytes <= g) start += files[f++].bytes;
    if (f < files.length && g > start) out.push({ cut: k, file: f, offset: g - start });
  }
  return out;
}

// Every cut at its place: those inside files as moved (by `placed`, keyed by cut number), the others at the
// start of the file where they fall (or past the last file).
export function placeCuts(files: PlanFile[], count: number, placed: Map<number, PlacedCut>): PlacedCut[] {
  const total = files.reduce((n, f) => n + f.bytes, 0);
  const out: PlacedCut[] = [];
  let f = 0;
  let start = 0;
  for (let k = 1; k < count; k++) {
    const g = Number((BigInt(total) * BigInt(k)) / BigInt(count));
    while (f < files.length && start + files[f].bytes <= g) start += files[f++].bytes;
    out.push(placed.get(k) ?? { file: f, at: { offset: 0 } });
  }
  return out;
}

// Cut positions compare by file, then offset.
function before(aFile: number, aOffset: number, b: PlacedCut): boolean {
  return aFile < b.file || (aFile === b.file && aOffset < b.at.offset);
}

// The pieces of every shard from the placed cuts (non-decreasing). A file is cut at the cuts strictly inside
// it; each part goes to the shard whose range holds its start.
export function buildPlan(files: PlanFile[], count: number, cuts: PlacedCut[], splits: SplitDecision[] = []): ShardPlan {
  for (let k = 1; k < cuts.length; k++) {
    if (before(cuts[k].file, cuts[k].at.offset, cuts[k - 1])) throw new Error('internal: shard cuts out of order');
  }
  const shards: Piece[][] = Array.from({ length: count }, () => []);
  let k = 0;
  files.forEach((file, f) => {
    const inner = cuts.filter((c) => c.file === f && c.at.offset > 0 && c.at.offset < file.bytes).map((c) => c.at);
    const points: CutPoint[] = [{ offset: 0 }];
    for (const c of inner) if (c.offset !== points[points.length - 1].offset) points.push(c);
    points.push({ offset: file.bytes });
    for (let p = 0; p + 1 < points.length; p++) {
      const start = points[p];
      const end = points[p + 1];
      // The shard whose range holds (f, start): past every cut at or before it.
      while (k < cuts.length && !before(f, start.offset, cuts[k])) k++;
      const whole = points.length === 2;
      shards[k].push(whole ? { path: file.path, bytes: file.bytes, fileBytes: file.bytes } : { path: file.path, bytes: end.offset - start.offset, fileBytes: file.bytes, range: { start, end } });
    }
  });
  const hash = createHash('sha256')
    .update(stableJson({ count, files: files.map((f) => [f.path, f.bytes]), cuts: cuts.map((c) => [c.file, c.at]) }))
    .digest('hex');
  return { count, shards, splits, hash, totalBytes: files.reduce((n, f) => n + f.bytes, 0) };
}
