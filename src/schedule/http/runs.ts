// Run records as the status server reads them: a job's newest records, one record by run id, and a summary
// of each (status, counts, duration, exit code, error line, drift). Where a job's records are comes from the
// job (its state_dir and name, through recordPath); a run id from a URL only picks a file in that folder,
// and only when it has the form newRunId gives (no separators, no dots). Records are written once,
// atomically, and never change, so each summary is kept once read (a bounded cache).
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { JobConfig } from '../../job/config.js';
import { countsOf, errorLine, recordPath, type RunCounts, type RunRecord } from '../../run/record.js';

export { errorLine };

/** A run id as newRunId makes them: `20261124T223355Z-1a2b`. */
export const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{4,16}$/;
/** A record larger than this is not read (records of runs over many thousand inputs stay far below). */
const MAX_RECORD_BYTES = 32 * 1024 * 1024;
const SUMMARY_CACHE = 20_000;
/** Drift values shown per run. */
const MAX_DRIFT_COLUMNS = 64;

interface DriftValue {
  column: string;
  value: number | null;
  missing_ratio: number | null;
  level: string | null;
}

/** Per-column drift of a run, from its record's `monitor` (or `drift`) section when it has one. */
export interface Drift {
  metric: string | null;
  warn_at: number | null;
  fail_at: number | null;
  columns: DriftValue[];
}

export interface RunSummary extends RunCounts {
  run_id: string;
  status: string;
  exit_code: number | null;
  trigger: string | null;
  reason: string | null;
  attempt: number | null;
  scheduled_for: string | null;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  /** The first line of the run's error. */
  error: string | null;
  warnings: number;
  drift: Drift | null;
}

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

// One column's drift from an entry of a monitor section: {column|name, <metric>|drift|value|psi|js, ...}
// or a bare number.
function driftValue(column: string, entry: unknown, metric: string | null): DriftValue | undefined {
  if (num(entry) !== null) return { column, value: num(entry), missing_ratio: null, level: null };
  const e = obj(entry);
  if (!e) return undefined;
  const value = (metric ? num(e[metric]) : null) ?? num(e.drift) ?? num(e.value) ?? num(e.psi) ?? num(e.js);
  const missing = num(e.missing_ratio) ?? num(e.missing_rate) ?? num(e.missingRate);
  return { column, value, missing_ratio: missing, level: str(e.level) ?? str(e.status) ?? str(e.alert) };
}

// The per-column drift a record carries, in whichever of the plausible shapes it has it: a `monitor`
// section (`{metric, warn_at, fail_at, columns | drift}`) or a `drift` section, each a list of
// `{column, value, ...}` or an object of column → value (or → {value, missing_ratio, level}). Null when none.
export function driftOf(record: Raw): Drift | null {
  const monitor = obj(record.monitor);
  const section = monitor ?? (obj(record.drift) || Array.isArray(record.drift) ? { columns: record.drift } : undefined);
  if (!section) return null;
  const metric = str(section.metric);
  const list = section.columns ?? section.drift;
  const columns: DriftValue[] = [];
  if (Array.isArray(list)) {
    for (const entry of list) {
      const e = obj(entry);
      const name = e ? (str(e.column) ?? str(e.name)) : null;
      const v = name !== null ? driftValue(name, entry, metric) : undefined;
      if (v) columns.push(v);
    }
  } else if (obj(list)) {
    for (const [name, entry] of Object.entries(obj(list) as Raw)) {
      const v = driftValue(name, entry, metric);
      if (v) columns.push(v);
    }
  }
  if (columns.length === 0) return null;
  return { metric, warn_at: num(section.warn_at), fail_at: num(section.fail_at), columns: columns.slice(0, MAX_DRIFT_COLUMNS) };
}

// The summary of a parsed record (any version: missing fields become null or 0).
function summarize(runId: string, r: Raw): RunSummary {
  const schedule = obj(r.schedule) ?? {};
  return {
    run_id: runId,
    status: str(r.status) ?? 'unknown',
    exit_code: num(r.exit_code),
    trigger: str(r.trigger),
    reason: str(schedule.reason),
    attempt: num(schedule.attempt),
    scheduled_for: str(schedule.scheduled_for),
    started_at: str(r.started_at),
    ended_at: str(r.ended_at),
    duration_ms: num(r.duration_ms),
    ...countsOf(obj(r.totals)),
    error: errorLine(r.error),
    warnings: Array.isArray(r.warnings) ? r.warnings.length : 0,
    drift: driftOf(r),
  };
}

type JobRef = Pick<JobConfig, 'name' | 'stateDir'>;

// A record's bytes parsed, or undefined when they are not a run record.
function parseRecord(bytes: Buffer): RunRecord | undefined {
  try {
    const r = obj(JSON.parse(bytes.toString('utf8')));
    return r && typeof r.status === 'string' && typeof r.run_id === 'string' ? (r as unknown as RunRecord) : undefined;
  } catch {
    return undefined;
  }
}

// The folder of a job's run records.
function runsDir(job: JobRef): string {
  return path.dirname(recordPath(job.stateDir, job.name, '0'));
}

export class RunStore {
  private readonly listings = new Map<string, { stamp: string; ids: string[] }>();
  private readonly summaries = new Map<string, { stamp: string; summary: RunSummary }>();

  // Run ids of a job's records, oldest first (run ids sort by their start time).
  async ids(job: JobRef): Promise<string[]> {
    const dir = runsDir(job);
    let stamp: string;
    try {
      const s = await stat(dir);
      stamp = `${s.mtimeMs}/${s.ctimeMs}/${s.ino}`;
    } catch {
      this.listings.delete(dir);
      return [];
    }
    const cached = this.listings.get(dir);
    if (cached && cached.stamp === stamp) return cached.ids;
    const names = await readdir(dir).catch(() => [] as string[]);
    const ids = names.filter((n) => n.endsWith('.json') && RUN_ID.test(n.slice(0, -5))).map((n) => n.slice(0, -5)).sort();
    this.listings.set(dir, { stamp, ids });
    return ids;
  }

  // The record of a run as stored (its bytes), or undefined when there is no such regular file.
  async raw(job: JobRef, runId: string): Promise<Buffer | undefined> {
    return (await this.read(job, runId))?.bytes;
  }

  // The parsed record of a run, or undefined when it is missing or not a record.
  async record(job: JobRef, runId: string): Promise<RunRecord | undefined> {
    const got = await this.read(job, runId);
    return got?.bytes ? parseRecord(got.bytes) : undefined;
  }

  // The summary of a run, or undefined when its record cannot be read. Kept while the file is unchanged (the
  // scheduler rewrites the record of a run it timed out, once, after the run wrote its own).
  async summary(job: JobRef, runId: string): Promise<RunSummary | undefined> {
    const got = await this.read(job, runId, (stamp) => {
      const hit = this.summaries.get(recordPath(job.stateDir, job.name, runId));
      return hit && hit.stamp === stamp ? hit.summary : undefined;
    });
    if (got?.cached) return got.cached;
    const r = got?.bytes ? parseRecord(got.bytes) : undefined;
    if (!r) return undefined;
    const summary = summarize(runId, r as unknown as Raw);
    const key = recordPath(job.stateDir, job.name, runId);
    this.summaries.delete(key);
    if (this.summaries.size >= SUMMARY_CACHE) this.summaries.delete(this.summaries.keys().next().value as string);
    this.summaries.set(key, { stamp: (got as { stamp: string }).stamp, summary });
    return summary;
  }

  // A run's record file: its bytes, unless `cached` knows it by its size and time. Only a regular file (not
  // a link) of at most MAX_RECORD_BYTES whose name is a run id is read.
  private async read(job: JobRef, runId: string, cached?: (stamp: string) => RunSummary | undefined): Promise<{ stamp: string; bytes?: Buffer; cached?: RunSummary } | undefined> {
    if (!RUN_ID.test(runId)) return undefined;
    const file = recordPath(job.stateDir, job.name, runId);
    try {
      const s = await lstat(file);
      if (!s.isFile() || s.size > MAX_RECORD_BYTES) return undefined;
      const stamp = `${s.size}/${s.mtimeMs}/${s.ino}`;
      const hit = cached?.(stamp);
      if (hit) return { stamp, cached: hit };
      return { bytes: await readFile(file), stamp };
    } catch {
      return undefined;
    }
  }

  // The newest `limit` runs of a job, newest first, and how many records it has.
  async latest(job: JobRef, limit: number): Promise<{ runs: RunSummary[]; total: number }> {
    const ids = await this.ids(job);
    const runs: RunSummary[] = [];
    for (let i = ids.length - 1; i >= 0 && runs.length < limit; i--) {
      const s = await this.summary(job, ids[i]);
      if (s) runs.push(s);
    }
    return { runs, total: ids.length };
  }

  // The newest run that satisfies `pred`, looking at most `scan` records back.
  async find(job: JobRef, pred: (s: RunSummary) => boolean, scan: number): Promise<RunSummary | undefined> {
    const ids = await this.ids(job);
    for (let i = ids.length - 1; i >= 0 && i >= ids.length - scan; i--) {
      const s = await this.summary(job, ids[i]);
      if (s && pred(s)) return s;
    }
    return undefined;
  }
}
