// The run record (SPEC "Run record"): one JSON file per run in state_dir/runs/<job>/<run_id>.json, written
// atomically; `run --json` prints the same object.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { openSink } from '../storage/sink.js';
import type { JobConfig, TextFormat } from '../job/config.js';
import { VERSION } from '../version.js';
import type { SplitDecision } from '../io/split.js';
import { redactDeep } from '../util/redact.js';
import type { MonitorSection, ProfileSummary } from './monitor.js';

type InputStatus = 'ok' | 'failed' | 'skipped';
export type RunStatus = 'ok' | 'failed' | 'skipped' | 'interrupted' | 'invalid' | 'dry-run';

export interface InputRecord {
  path: string;
  bytes: number | null;
  sha256: string | null;
  rows_in: number;
  rows_out: number;
  rows_rejected: number;
  output: string | null;
  rejects: string | null;
  status: InputStatus;
  error: string | null;
  /** Incremental jobs: why the input was skipped or scored (the ledger's decision); otherwise null. */
  reason?: string | null;
  /** Sharded runs: the part of the file this input is, when not all of it (see PieceRange). */
  range?: PieceRange;
  /** A query input (input.database; `path` is the database as shown, without password): the query, the
   *  watermark range it read (rows with column > after, up to `to`, the largest value read; null: none),
   *  this worker's shard, and with --dry-run the database's plan for it (EXPLAIN). */
  query?: {
    text: string;
    watermark?: { column: string; after: string | null; to: string | null };
    shard?: { column: string; index: number; count: number };
    plan?: string[];
  };
  duration_ms: number;
}

/** Bytes [start, end) of a file of `file_bytes` bytes: from physical line `line` (text), or row groups
 *  [row_groups[0], row_groups[1]) starting at row `first_row` + 1 (Parquet). `bytes` and `sha256` of the
 *  input record are those of the piece (Parquet pieces have no sha256: it would need the whole file). */
export interface PieceRange {
  start: number;
  end: number;
  file_bytes: number;
  line?: number;
  row_groups?: [number, number | null];
  first_row?: number;
}

/** Sharded runs: which shard a run was and the plan it shared with the other workers. */
export interface ShardInfo {
  index: number;
  count: number;
  /** The {shard} token of this worker. */
  tag: string;
  /** sha256 of the plan (listing, sizes, cuts): the same for every worker that saw the same inputs. */
  plan: string;
  /** Pieces and bytes of the whole plan (all workers). */
  pieces: number;
  total_bytes: number;
  /** This worker's share, and every worker's (in shard order). */
  bytes: number;
  bytes_per_shard: number[];
  /** What merge needs to know the shards belong together and to write their combined result. */
  output_format: TextFormat;
  config_hash: string;
  batch_size: number;
  /** Files the plan's cuts fell into: split (how, into how many pieces) or not, and why. */
  splits: SplitDecision[];
}

/** `request`: started on demand through the scheduler's HTTP server (run now). */
export type FireReason = 'schedule' | 'missed' | 'retry' | 'request';

export interface FireInfo {
  scheduled_for: string;
  attempt: number;
  reason: FireReason;
}

export interface RunRecord {
  job: string;
  job_file: string;
  run_id: string;
  trigger: 'cli' | 'schedule';
  /** Scheduled runs only: the planned fire instant, the attempt (1 = the fire itself) and why it ran. */
  schedule?: FireInfo;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  status: RunStatus;
  exit_code: number;
  error: string | null;
  model: { path: string; sha256: string | null };
  versions: { serve_batch: string; onnxruntime: string; node: string };
  totals: { inputs: number; failed: number; skipped?: number; rows_in: number; rows_out: number; rows_rejected: number };
  /** Incremental jobs: the ledger this run read and updated, and whether --reprocess ignored it. */
  incremental?: { ledger: string; reprocess: boolean };
  /** Sharded runs: this worker's shard and the plan. */
  shard?: ShardInfo;
  /** `merge` runs: the shards that were combined. */
  merge?: MergeInfo;
  inputs: InputRecord[];
  /** The profile of the run's features and predictions (unless the job sets profile: false). */
  profile?: ProfileSummary;
  /** Monitored jobs: each monitored column's drift against the reference (not in a shard's record: merge
   *  computes it on the whole run). */
  monitor?: MonitorSection;
  warnings: string[];
  /** Where this record was written (null for dry runs). */
  record: string | null;
}

/** A merge's record: what it found of each shard. */
export interface MergeInfo {
  count: number;
  plan: string | null;
  shards: { index: number; run_id: string | null; record: string | null; status: RunStatus | 'missing'; inputs: number; rows_in: number; rows_out: number; rows_rejected: number; output: string | null }[];
}

// The record of a run (or merge) as it starts: ok, no inputs yet; the run fills in the rest.
export function startRecord(job: JobConfig, runId: string, started: Date, o: { trigger: RunRecord['trigger']; schedule?: FireInfo; onnxruntime: string }): RunRecord {
  return {
    job: job.name,
    job_file: job.file,
    run_id: runId,
    trigger: o.trigger,
    ...(o.schedule ? { schedule: o.schedule } : {}),
    started_at: started.toISOString(),
    ended_at: started.toISOString(),
    duration_ms: 0,
    status: 'ok',
    exit_code: 0,
    error: null,
    model: { path: job.model.path, sha256: null },
    versions: { serve_batch: VERSION, onnxruntime: o.onnxruntime, node: process.version },
    totals: totals([]),
    inputs: [],
    warnings: [],
    record: null,
  };
}

// A sortable, unique run id: `20261124T223355Z-1a2b`.
export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export function recordPath(stateDir: string, job: string, runId: string): string {
  return path.join(stateDir, 'runs', job, `${runId}.json`);
}

// The profile file beside a run's record.
export function profilePath(stateDir: string, job: string, runId: string): string {
  return path.join(stateDir, 'runs', job, `${runId}.profile.json`);
}

// Totals over the inputs. rows_out counts the rows in results this run committed: a failed input's rows were
// taken back out of its result (or, sent to a stream, are not a result), so the totals' rows_in is rows_out +
// rows_rejected + the failed inputs' rows_out.
export function totals(inputs: InputRecord[]): RunRecord['totals'] {
  const t = { inputs: inputs.length, failed: 0, skipped: 0, rows_in: 0, rows_out: 0, rows_rejected: 0 };
  for (const i of inputs) {
    t.rows_in += i.rows_in;
    if (i.status !== 'failed') t.rows_out += i.rows_out;
    t.rows_rejected += i.rows_rejected;
    if (i.status === 'failed') t.failed++;
    // Dry runs list every input as skipped ("would be scored"); `reason` marks those the ledger skipped.
    if (i.status === 'skipped' && i.reason) t.skipped++;
  }
  return t;
}

// Where rows_in = rows_out + rows_rejected fails, for an input or the run's totals (a bug, never a data
// problem: each input was already checked against what its writer counted).
export function unreconciled(inputs: InputRecord[], t: RunRecord['totals'] = totals(inputs)): string | undefined {
  for (const i of inputs) {
    if (i.rows_in !== i.rows_out + i.rows_rejected) return `counts do not reconcile for ${i.path}: ${i.rows_in} rows in, ${i.rows_out} out, ${i.rows_rejected} rejected`;
  }
  const dropped = inputs.reduce((n, i) => n + (i.status === 'failed' ? i.rows_out : 0), 0);
  if (t.rows_in !== t.rows_out + t.rows_rejected + dropped) {
    return `the run's counts do not reconcile: ${t.rows_in} rows in, ${t.rows_out} out, ${t.rows_rejected} rejected${dropped ? `, ${dropped} of failed inputs not kept` : ''}`;
  }
  return undefined;
}

// Write the record atomically, with values from the environment hidden.
export async function writeRecord(file: string, record: RunRecord): Promise<void> {
  const sink = await openSink(file);
  await sink.write(`${JSON.stringify(redactDeep(record), null, 2)}\n`);
  await sink.commit();
}

/** A run's totals as a summary shows them (the status page, notices): flat, `failed` as `failed_inputs`. */
export interface RunCounts {
  inputs: number;
  failed_inputs: number;
  rows_in: number;
  rows_out: number;
  rows_rejected: number;
}

// The counts of a record's totals, of any version (a missing or non-numeric figure is 0).
export function countsOf(totals: unknown): RunCounts {
  const t = (totals ?? {}) as Record<string, unknown>;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return { inputs: n(t.inputs), failed_inputs: n(t.failed), rows_in: n(t.rows_in), rows_out: n(t.rows_out), rows_rejected: n(t.rows_rejected) };
}

/** An error line longer than this is cut where a record is summarised (the record keeps all of it). */
const MAX_ERROR_CHARS = 500;

// The first line of a record's error, cut to a readable length (the status page, notices).
export function errorLine(error: unknown): string | null {
  if (typeof error !== 'string' || error === '') return null;
  const line = error.split('\n')[0];
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS - 1)}…` : line;
}
