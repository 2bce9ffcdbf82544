// The incremental ledger (input.incremental: true): which inputs a job has scored successfully, so a
// scheduled job over a landing folder scores each file once; and for a query read by watermark, the largest
// value of its column scored (WatermarkEntry). One JSON file per job,
// state_dir/ledger/<job>.json, written atomically and only after an input's result was committed; the job's
// lock keeps two runs from writing it at once.
//
// What makes an input due again (decide(), a pure function):
// - no entry for its path (a new file; a renamed file is a new file);
// - another model (sha256 of the model file) or other result-changing job settings (jobConfigHash);
// - other content: a different size, or the same size and a different sha256. The sha256 decides, not the
//   modification time: a file that was only touched (same bytes) is not scored again, and a file rewritten
//   with the same size and mtime (rsync -t, a restore) is. So a file of the same size is read once to hash
//   it; a file that is then scored is hashed while it is read, never read twice for that.
// - An object in a store that names its content (an ETag, and a VersionId where the bucket keeps versions)
//   is judged by that identity alone: the same one is skipped, another is scored, and nothing is read to
//   decide. Its key in the ledger is its URL (bucket and key).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SbError } from '../errors.js';
import type { JobConfig, TextFormat } from '../job/config.js';
import { openSink } from '../storage/sink.js';
import type { ByteSource } from '../storage/source.js';
import { displayPath } from '../util/display.js';

export interface LedgerEntry {
  /** Absolute path of the input (the key). */
  path: string;
  size: number;
  mtime_ms: number;
  sha256: string;
  /** The store's identity of the content when it gives one (`ETag "…"`, ` version …`). */
  identity?: string;
  model_sha256: string;
  config_hash: string;
  run_id: string;
  scored_at: string;
  output: string | null;
  rows_in: number;
  rows_out: number;
  rows_rejected: number;
}

/** A query read by watermark (input.watermark): the largest value of its column that a committed result holds.
 *  Keyed by the database (as shown, without password), the query text and the column: another query starts
 *  from its first row. The model and the job's settings do not reset it (--reprocess reads every row). */
export interface WatermarkEntry {
  database: string;
  query: string;
  column: string;
  /** The value as the database printed it: bound as a parameter next run (`column > value`). */
  value: string;
  run_id: string;
  scored_at: string;
  rows_in: number;
  rows_out: number;
  rows_rejected: number;
}

interface LedgerFile {
  version: 1;
  job: string;
  entries: Record<string, LedgerEntry>;
  watermarks?: Record<string, WatermarkEntry>;
}

/** What the file looks like now; sha256 only when decide() asked for it. */
export interface FileState {
  size: number;
  mtimeMs: number;
  sha256?: string;
  /** The store's identity of the content (objects). */
  identity?: string;
}

export type Decision = { action: 'skip'; reason: string } | { action: 'score'; reason: string } | { action: 'hash' };

// Skip, score, or (same size: content unknown) hash the file and ask again.
export function decide(entry: LedgerEntry | undefined, now: FileState, modelSha256: string, configHash: string): Decision {
  if (!entry) return { action: 'score', reason: 'new input' };
  const when = `scored by run ${entry.run_id}`;
  if (entry.model_sha256 !== modelSha256) return { action: 'score', reason: `the model changed since it was ${when}` };
  if (entry.config_hash !== configHash) return { action: 'score', reason: `the job's settings changed since it was ${when}` };
  if (now.identity !== undefined && entry.identity !== undefined) {
    if (now.identity !== entry.identity) return { action: 'score', reason: `its content changed since it was ${when} (${entry.identity} → ${now.identity})` };
    return { action: 'skip', reason: `already ${when}, unchanged (same ${now.identity.split(' ')[0]}, model and job settings)` };
  }
  if (entry.size !== now.size) return { action: 'score', reason: `its content changed since it was ${when} (${entry.size} → ${now.size} bytes)` };
  if (now.sha256 === undefined) return { action: 'hash' };
  if (now.sha256 !== entry.sha256) return { action: 'score', reason: `its content changed since it was ${when} (same size, other sha256)` };
  const touched = now.mtimeMs !== entry.mtime_ms ? '; only its modification time changed' : '';
  return { action: 'skip', reason: `already ${when}, unchanged (same sha256, model and job settings)${touched}` };
}

// A stable hash of the job settings that change what a result holds: model options that change numbers,
// CSV reading, features, missing values, passthrough, predictions, output format and precision. Not the
// name, schedule, state_dir, paths, thresholds or batch size.
export function jobConfigHash(job: JobConfig, outputFormat: TextFormat): string {
  const relevant = {
    model: { optimization: job.model.optimization },
    input: { format: job.input.format ?? null, csv: job.input.csv },
    features: job.features,
    missing: { default: job.missing.default, by_column: [...job.missing.byColumn].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) },
    passthrough: job.passthrough,
    predictions: job.predictions ?? null,
    output: { format: outputFormat, float_precision: job.output.floatPrecision },
  };
  return createHash('sha256').update(stableJson(relevant)).digest('hex');
}

// JSON with object keys sorted, undefined members left out.
export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stableJson(x))).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function ledgerPath(stateDir: string, job: string): string {
  return path.join(stateDir, 'ledger', `${job}.json`);
}

/** What a run knows about an input it scored, for its entry: a file, or a query read by watermark. */
export type ScoredInput = Omit<LedgerEntry, 'model_sha256' | 'config_hash' | 'run_id'> | Omit<WatermarkEntry, 'run_id'>;

// The key of a query's watermark.
function watermarkKey(database: string, query: string, column: string): string {
  return createHash('sha256').update(stableJson({ database, query, column })).digest('hex');
}

/** A file's state when it was checked, kept to be written into its entry once it is scored. */
export interface Checked {
  decision: Exclude<Decision, { action: 'hash' }>;
  state?: FileState;
}

export class Ledger {
  private constructor(
    readonly file: string,
    private readonly data: LedgerFile,
    private readonly modelSha256: string,
    private readonly configHash: string,
    private readonly runId: string,
  ) {}

  // Read the job's ledger (none yet: empty). A ledger that cannot be read is an error, not an empty one:
  // starting over would score every input again.
  static async open(stateDir: string, job: string, runId: string, modelSha256: string, configHash: string): Promise<Ledger> {
    const file = ledgerPath(stateDir, job);
    let data: LedgerFile = { version: 1, job, entries: {} };
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw broken(file, (err as Error).message);
    }
    if (text !== undefined) {
      try {
        data = JSON.parse(text) as LedgerFile;
      } catch (err) {
        throw broken(file, (err as Error).message);
      }
      if (data?.version !== 1 || typeof data.entries !== 'object' || data.entries === null) throw broken(file, 'not a ledger of this version');
    }
    return new Ledger(file, data, modelSha256, configHash, runId);
  }

  // Decide about one input, keyed by its URL (hashing it only when its size alone cannot tell).
  async check(source: ByteSource): Promise<Checked> {
    const key = source.url;
    const entry = Object.hasOwn(this.data.entries, key) ? this.data.entries[key] : undefined;
    const s = await source.stat().catch(() => undefined);
    // Gone, unreadable or a stream: scoring it says why, as for any input.
    if (!s) return { decision: { action: 'score', reason: 'new input' } };
    const state: FileState = { size: s.size, mtimeMs: s.mtimeMs, ...(s.identity !== undefined ? { identity: s.identity } : {}) };
    let d = decide(entry, state, this.modelSha256, this.configHash);
    if (d.action === 'hash') {
      state.sha256 = await sha256Of(source).catch(() => undefined);
      if (state.sha256 === undefined) return { decision: { action: 'score', reason: 'it could not be read to compare it' }, state };
      d = decide(entry, state, this.modelSha256, this.configHash);
    }
    return { decision: d as Checked['decision'], state };
  }

  // The watermark a query's last committed result reached (undefined: none yet).
  watermark(database: string, query: string, column: string): WatermarkEntry | undefined {
    const w = this.data.watermarks;
    const key = watermarkKey(database, query, column);
    return w && Object.hasOwn(w, key) ? w[key] : undefined;
  }

  // The entry of another input whose result is at `output` (undefined: none): scoring `input` there would
  // replace a result the ledger keeps skipping its input for.
  resultOwner(output: string, input: string): LedgerEntry | undefined {
    return Object.values(this.data.entries).find((e) => e.output === output && e.path !== input);
  }

  // Remember inputs whose results are committed, then write the ledger (atomically).
  async add(scored: ScoredInput[]): Promise<void> {
    if (scored.length === 0) return;
    for (const s of scored) {
      if ('column' in s) (this.data.watermarks ??= {})[watermarkKey(s.database, s.query, s.column)] = { ...s, run_id: this.runId };
      else this.data.entries[s.path] = { ...s, model_sha256: this.modelSha256, config_hash: this.configHash, run_id: this.runId };
    }
    try {
      const sink = await openSink(this.file);
      await sink.write(`${JSON.stringify(this.data, null, 1)}\n`);
      await sink.commit();
    } catch (err) {
      const why = err instanceof SbError ? err.message : (err as Error).message;
      throw new SbError('WRITE_FAILED', `the ledger could not be updated (${why}); inputs scored by this run will be scored again by the next one`);
    }
  }
}

function broken(file: string, why: string): SbError {
  return new SbError(
    'JOB_INVALID',
    `the incremental ledger ${displayPath(file)} cannot be read (${why}); restore it, or delete it to score every input again`,
    { yamlPath: 'input.incremental' },
  );
}

// sha256 of a source's bytes, read to the end.
export async function sha256Of(source: ByteSource): Promise<string> {
  const stream = source.open();
  for await (const _ of stream);
  return stream.sha256() as string;
}
