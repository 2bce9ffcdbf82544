// runJob(): one run of one job — lock, model, plan, inputs, per-input scoring, run record. Shared by the
// `run` command and the scheduler; returns a RunRecord for success and failure alike and never prints.
import path from 'node:path';
import { exitCodeFor, exitCodeOf, SbError } from '../errors.js';
import type { JobConfig, TextFormat } from '../job/config.js';
import { resolveJobPath } from '../job/config.js';
import { incrementalProblem, watermarkProblem } from '../job/template.js';
import type { TableWriter } from '../table/writer.js';
import { resolveJobInputs, type InputFile } from '../io/inputs.js';
import { openTableWriter } from '../io/table-writer.js';
import { ORT_VERSION, type LoadedModel } from '../model/session.js';
import { resultNames } from '../pipeline/assemble.js';
import { runSpecOf, type RunPlan } from '../pipeline/plan.js';
import { dropWarmReaderThread, readsInThread, warmReaderThread } from '../pipeline/reader-thread.js';
import { resultFields } from '../pipeline/result-fields.js';
import { InputFailure, scoreInput } from '../pipeline/score-input.js';
import { ChunkProfiler, profileColumns, type ProfileColumns } from '../pipeline/profile-stage.js';
import type { Profile } from '../monitor/index.js';
import { loadReference, runProfile, saveRunProfile, type MonitorSection } from './monitor.js';
import { STOP_GRACE_MS, type StopBound } from '../util/abandon.js';
import { formatDuration } from '../util/duration.js';
import { fastPathEnabled } from '../util/fast-path.js';
import { beginJournal, endJournal, journalHooks, recoverJournal } from './journal.js';
import { jobConfigHash, Ledger, ledgerPath, type Checked, type ScoredInput } from './ledger.js';
import { takeJobLock } from './job-lock.js';
import { newRunId, startRecord, totals, unreconciled, type FireInfo, type InputRecord, type PieceRange, type RunRecord, type ShardInfo } from './record.js';
import { openModelForJob } from './open-model.js';
import { outputTarget, type InputWriters } from './output-target.js';
import { saveRecord } from './save.js';
import { planShards } from './shard-plan.js';
import { shardStateName, shardTag, type Piece, type ShardPlan, type ShardSpec } from './shards.js';
import { checkArtifacts, checkShardTargets, formatFor, jobReads, planTargets, tokenValues, type Target, type TargetPlan } from './targets.js';
import type { PieceSpec } from '../io/table-reader.js';
import { displayPath } from '../util/display.js';
import { openSource } from '../storage/source.js';
import { isLocal } from '../storage/backends.js';
import { resultExists } from '../storage/sink.js';
import { withStorage, type StorageScope } from '../storage/scope.js';
import type { Database } from '../db/types.js';
import { checkQuery, checkQueryShards, checkTable, explainQueries, jobDatabases, openResultTable, queryInputs, queryRecord, queryShardPlan, querySpec, toTable, watermarkAfter, watermarkScored, withQuery } from './database.js';

export type RunEvent =
  | { type: 'run_started'; job: string; run_id: string; inputs: number }
  | { type: 'shard_planned'; job: string; shard: ShardInfo }
  | { type: 'input_started'; job: string; input: string; bytes: number | null }
  | { type: 'input_finished'; job: string; input: InputRecord }
  | { type: 'warning'; job: string; message: string }
  | { type: 'drift'; job: string; monitor: MonitorSection };

export interface RunOptions {
  trigger?: 'cli' | 'schedule';
  /** The run id to use (the scheduler picks it before starting the run's process); default: a new one. */
  runId?: string;
  /** Scheduled runs: which fire this is, copied into the record. */
  fire?: FireInfo;
  /** Replaces input.path (paths relative to the working directory; '-' = stdin). */
  input?: string;
  /** Replaces output.path ('-' = stdout). */
  output?: string;
  /** What the caller itself writes to standard output (the record with --json): no file of the run may. */
  stdout?: string;
  outputFormat?: TextFormat;
  /** Replaces input.format (for standard input, which has no name). */
  inputFormat?: TextFormat;
  limit?: number;
  dryRun?: boolean;
  /** Incremental jobs: score every input, whatever the ledger says (the ledger is still updated). */
  reprocess?: boolean;
  /** Score only this worker's share of the inputs (see run/shards.ts). */
  shard?: ShardSpec;
  /** Stop the run (its reason: the signal's name, e.g. 'SIGTERM'); nothing partial is kept. */
  signal?: AbortSignal;
  /** Fail the run when it takes longer than this (ms); default: the job's `timeout`. */
  timeoutMs?: number;
  onEvent?: (e: RunEvent) => void;
  onProgress?: (p: { input: string; rows: number; bytes: number; totalBytes?: number }) => void;
  now?: () => Date;
}

// Run a job once. Never throws for anything a user can cause: the record says what happened. Its storage
// clients (an object store's) are the run's: opened when it first touches a URL, closed when it ends.
export function runJob(job: JobConfig, options: RunOptions = {}): Promise<RunRecord> {
  return withStorage(job.storage ?? {}, (storage) => runJobIn(job, options, storage));
}

async function runJobIn(job: JobConfig, options: RunOptions, storage: StorageScope): Promise<RunRecord> {
  if (options.inputFormat) job = { ...job, input: { ...job.input, format: options.inputFormat } };
  // --input and --output name files, which take the place of a query or a table.
  if (options.input && job.input.query) job = { ...job, input: { ...job.input, query: undefined } };
  if (options.output && job.output.table) job = { ...job, output: { ...job.output, table: undefined } };
  const now = options.now ?? (() => new Date());
  const started = now();
  const runId = options.runId ?? newRunId(started);
  const record = startRecord(job, runId, started, { trigger: options.trigger ?? 'cli', schedule: options.fire, onnxruntime: ORT_VERSION });
  const emit = options.onEvent ?? (() => undefined);
  const warn = (message: string) => {
    record.warnings.push(message);
    emit({ type: 'warning', job: job.name, message });
  };
  storage.hooks.warn = warn;
  // A partial run written elsewhere (--limit with --output) leaves the job's rejects file alone: its partial
  // rejects would replace a complete run's.
  if (options.limit !== undefined && options.output !== undefined && job.errors.rejects) {
    warn(`--limit with --output writes no rejects file: ${displayPath(job.errors.rejects)} (errors.rejects) stays as it was; rejected rows are only counted`);
    job = { ...job, errors: { ...job.errors, rejects: undefined } };
  }
  const shard = options.shard;
  // Lock, crash journal and records are per job, and per shard of a sharded run.
  const stateName = shard ? shardStateName(job.name, shard) : job.name;
  let release: (() => Promise<void>) | undefined;
  let journaled = false;
  let model: LoadedModel | undefined;
  let listing: Promise<InputFile[]> | undefined;
  const stop = stopOn(options.signal, options.timeoutMs ?? job.timeoutMs);
  options = { ...options, signal: stop.signal };
  try {
    if (shard) checkShardOptions(job, options);
    const dbs = await jobDatabases(job, runId, stop.signal);
    if (!options.dryRun) {
      release = await takeJobLock(job, stateName, runId, shard ? `shard ${shard.index} of ${shard.count} of job ${job.name}` : `job ${job.name}`, 'run');
      const recovered = await recoverJournal(job.stateDir, stateName);
      if (recovered) warn(recovered);
    }
    // The inputs are listed once, while the model loads; what is wrong with them is said after the model's
    // problems, as before.
    listing = dbs.input ? Promise.resolve(queryInputs(dbs.input)) : resolveJobInputs(job.input, options.input);
    listing.then((all) => warmReader(all, options, dbs.input !== undefined)).catch(() => undefined);
    const opened = await openModelForJob(job, { bounds: { stop: modelStop(stop.signal) }, onLoad: (m) => (record.model.sha256 = m.sha256) });
    model = opened.model;
    const plan = opened.plan;
    for (const w of opened.warnings) warn(w);
    const columns = job.profile ? profileColumns(plan, model) : undefined;
    // Checked before any data is read; a shard reads it too, for the histogram bins merge will have.
    const reference = columns ? await loadReference(job, columns) : undefined;
    const inputs = await listing;
    const outputTemplate = options.output ? resolveJobPath(process.cwd(), options.output) : job.output.template;
    // --reprocess puts every input in the one file; --limit keeps the ledger out of it.
    const incremental = options.output && !options.reprocess && options.limit === undefined ? (job.input.incremental ? incrementalProblem(outputTemplate) : job.input.query?.watermark ? watermarkProblem(outputTemplate) : undefined) : undefined;
    if (incremental) throw new SbError('USAGE', `--output ${options.output}: ${incremental}; or add --reprocess to score every input into it`);
    const tokens = tokenValues(job, runId, started, shard);
    let mine: (InputFile & { piece?: Piece })[] = inputs;
    let shardPlan: ShardPlan | undefined;
    if (shard) {
      shardPlan = dbs.input ? queryShardPlan(job, dbs.input, shard.count) : await planShards(job, inputs.map((i) => ({ path: i.path, bytes: i.bytes, format: formatFor(job, i.path) })), shard.count);
      checkShardTargets(job, shardPlan, tokens, outputTemplate);
      mine = shardPlan.shards[shard.index].map((p) => ({ path: p.path, bytes: p.bytes, piece: p }));
    }
    let targets = planTargets(job, mine, tokens, outputTemplate, options.outputFormat);
    if (dbs.output) targets = toTable(targets, job, dbs.output);
    // In a sharded run no worker may write over any input of the listing, not only over its own share's.
    await checkArtifacts(job, targets, { stateName, runId, inputs: dbs.input ? [] : inputs.map((i) => i.path), reads: jobReads(job, model.dataFiles), stdout: options.stdout });
    await checkLimitTargets(targets, options);
    // The databases answer before a row is read: the query runs with `limit 0`, the target table is inspected.
    if (dbs.input) await checkQuery(job, dbs.input, plan, querySpec(job, runId, shard));
    if (dbs.output) await checkTable(job, dbs.output, plan, model, runId);
    if (shard && shardPlan) {
      record.shard = shardInfo(job, shard, shardPlan, targets);
      emit({ type: 'shard_planned', job: job.name, shard: record.shard });
    }
    emit({ type: 'run_started', job: job.name, run_id: runId, inputs: mine.length });
    if (options.dryRun) {
      record.status = 'dry-run';
      record.inputs = targets.targets.map((t) => inputRecord(t, 'skipped', null));
      // An incremental job's plan says which inputs the ledger would skip.
      const ledger = options.reprocess ? undefined : await openLedger(job, model, targets, options, record);
      if (dbs.input) await explainQueries(withQuery(targets, querySpec(job, runId, shard, watermarkAfter(job, dbs.input, ledger))), dbs.input, record.inputs);
      for (const [i, t] of targets.targets.entries()) {
        const d = ledger && !t.query && t.input.path !== '-' ? (await ledger.check(openSource(t.input.path, t.display))).decision : undefined;
        if (d?.action === 'skip') Object.assign(record.inputs[i], { output: null, rejects: null, reason: d.reason });
      }
    } else {
      const ledger = await openLedger(job, model, targets, options, record);
      if (dbs.input) withQuery(targets, querySpec(job, runId, shard, options.reprocess ? undefined : watermarkAfter(job, dbs.input, ledger)));
      if (ledger) checkLedgerOutputs(ledger, targets);
      await beginJournal(job.stateDir, stateName, runId, targets.targets.flatMap((t) => [targets.table ? '-' : t.output, t.rejects ?? '-']).filter((f) => f !== '-' && isLocal(f)).map((f) => path.dirname(f)));
      journaled = true;
      Object.assign(storage.hooks, journalHooks(job.stateDir, stateName, runId));
      const output = dbs.output;
      const openTable = output ? () => openResultTable(job, output, plan, model as LoadedModel, runId, dbs.input) : undefined;
      const profiles = new Map<InputRecord, Profile>();
      await scoreAll(job, model, plan, targets, options, emit, record.inputs, ledger, columns && { columns, profiles }, { input: dbs.input, openTable });
      if (columns && !options.signal?.aborted) await finishProfile(job, record, stateName, { columns, profiles, reference, drift: !shard && options.limit === undefined }, emit, warn);
      const failed = record.inputs.filter((i) => i.status === 'failed');
      // A stop that came too late to stop anything (scoreAll drops what it has not committed otherwise): the
      // record is the run's own, and says so.
      if (stop.signal.aborted) warn(`${stopName(stop.signal.reason)} came after the last input was scored: the run finished as it would have without it`);
      const mismatch = unreconciled(record.inputs);
      if (mismatch) throw new SbError('RECONCILE', mismatch);
      if (failed.length > 0) {
        record.status = 'failed';
        record.exit_code = 1;
        record.error = `${failed.length} of ${record.inputs.length} input${record.inputs.length === 1 ? '' : 's'} failed: ${failed[0].error}`;
      }
      if (record.exit_code === 0 && record.monitor?.level === 'fail') record.exit_code = exitCodeFor('ALERT');
    }
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    record.error = err.describe();
    record.exit_code = exitCodeOf(err);
    record.status = err.code === 'LOCKED' ? 'skipped' : record.exit_code === 2 ? 'invalid' : 'failed';
    if (err.code === 'INTERRUPTED') Object.assign(record, stopOutcome(stop.signal.reason, err));
  } finally {
    stop.dispose();
    await model?.close();
    // The listing may still start the warm reader thread (a run whose model failed): drop it after that.
    await listing?.catch(() => undefined);
    await dropWarmReaderThread();
    if (journaled) await endJournal(job.stateDir, stateName, runId).catch(() => undefined);
    await release?.();
  }
  const ended = now();
  record.ended_at = ended.toISOString();
  record.duration_ms = ended.getTime() - started.getTime();
  record.totals = totals(record.inputs);
  if (!options.dryRun) {
    // The metrics file and the record are written last: a problem with them is said like the run's others.
    const said = record.warnings.length;
    await saveRecord(job, record, stateName, options.signal);
    for (const message of record.warnings.slice(said)) emit({ type: 'warning', job: job.name, message });
  }
  return record;
}

// A large input, standard input, or a query read whole, is read in a reader thread: start it now, so it is
// ready when the input opens instead of taking its own ~0.2 s then. A guess from the listing (a wrong one
// costs an idle thread, dropped after the run); not for a dry run, which reads nothing.
function warmReader(inputs: InputFile[], options: RunOptions, query: boolean): void {
  if (!options.dryRun && (query ? options.limit === undefined : inputs.some((i) => readsInThread(i.path, i.bytes, options.limit)))) warmReaderThread();
}

/** A run's timeout, as the reason of its stop signal. */
interface TimedOut {
  timeoutMs: number;
}

// The signal a run stops on: the caller's (with its reason, a signal's name), or the run's timeout.
function stopOn(signal: AbortSignal | undefined, timeoutMs: number | undefined): { signal: AbortSignal; dispose(): void } {
  const c = new AbortController();
  const follow = () => c.abort(signal?.reason);
  if (signal?.aborted) follow();
  else signal?.addEventListener('abort', follow, { once: true });
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => c.abort({ timeoutMs } satisfies TimedOut), timeoutMs);
  return {
    signal: c.signal,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', follow);
    },
  };
}

// How the model thread's answers are waited for once the run must stop.
function modelStop(signal: AbortSignal): StopBound {
  const late = `the model had not answered ${STOP_GRACE_MS / 1000} s later and was left running; no partial results were kept`;
  return { signal, graceMs: STOP_GRACE_MS, error: () => new SbError('INTERRUPTED', late) };
}

// Why a run stopped, in words: `interrupted by SIGTERM`, `timed out after 2.00s`.
function stoppedBy(reason: unknown): string {
  const t = reason as Partial<TimedOut> | undefined;
  if (t && typeof t === 'object' && typeof t.timeoutMs === 'number') return `timed out after ${formatDuration(t.timeoutMs)}`;
  return `interrupted by ${typeof reason === 'string' ? reason : 'a signal'}`;
}

// What stopped a run, for a warning: `SIGTERM`, `the timeout (2.00s)`.
function stopName(reason: unknown): string {
  const t = reason as Partial<TimedOut> | undefined;
  if (t && typeof t === 'object' && typeof t.timeoutMs === 'number') return `the timeout (${formatDuration(t.timeoutMs)})`;
  return typeof reason === 'string' ? reason : 'a stop signal';
}

// A stopped run's status, exit code and error: a timeout fails the run (exit 1); a signal interrupts it
// (130 for SIGINT, 143 for SIGTERM and SIGHUP).
function stopOutcome(reason: unknown, err: SbError): Pick<RunRecord, 'status' | 'exit_code' | 'error'> {
  const error = `${stoppedBy(reason)}: ${err.message}`;
  if (typeof reason === 'object' && reason !== null) return { status: 'failed', exit_code: 1, error };
  return { status: 'interrupted', exit_code: reason === 'SIGINT' ? 130 : 143, error };
}

// What a sharded run cannot do: read standard input (every worker would need all of it), write standard
// output, score a partial --limit, or keep an incremental ledger (see the README, "Scale-out"); and over a
// query, what run/database.ts refuses.
function checkShardOptions(job: JobConfig, options: RunOptions): void {
  checkQueryShards(job);
  if (options.input === '-') throw new SbError('USAGE', '--shard cannot read standard input: every worker would need all of it; give the inputs as files');
  if (options.output === '-') throw new SbError('USAGE', "--shard cannot write standard output: each worker writes its own result, which merge combines; give output.path with {shard}");
  if (options.limit !== undefined) throw new SbError('USAGE', '--limit cannot be combined with --shard: the first rows of each input belong to one worker; drop one of them');
  if (job.input.incremental) {
    throw new SbError('JOB_INVALID', 'an incremental job cannot be sharded: the plan moves files between workers whenever the listing changes, so no worker could keep a ledger of its own; set input.incremental: false and give each sharded run a fixed set of inputs (a dated folder)', { yamlPath: 'input.incremental' });
  }
}

// A --limit run writes partial files, so it replaces none that exist: a complete result (or one an
// incremental job's ledger counts as scored) would silently become its first N rows. A file named with
// --output is the user's explicit choice.
async function checkLimitTargets(tp: TargetPlan, options: RunOptions): Promise<void> {
  if (options.limit === undefined) return;
  const n = options.limit;
  const first = `the first ${n} row${n === 1 ? '' : 's'} of each input`;
  if (tp.table) throw new SbError('USAGE', `--limit ${n} would write ${first} into the table ${tp.targets[0]?.output ?? ''}: write them to a file with --output PATH (or --output - for standard output)`);
  for (const t of tp.targets) {
    if (options.output === undefined && t.output !== '-' && (await resultExists(t.output))) {
      throw new SbError('USAGE', `--limit ${n} would replace ${displayPath(t.output)} with a partial result (${first}): write it elsewhere with --output PATH (or --output - for standard output), or remove that file first`);
    }
    if (t.rejects && (await resultExists(t.rejects))) {
      throw new SbError('USAGE', `--limit ${n} would replace the rejects file ${displayPath(t.rejects)} with the rejects of ${first}: move that file away first, or run without --limit`);
    }
  }
}

// The record's view of this worker's shard and the plan.
function shardInfo(job: JobConfig, shard: ShardSpec, plan: ShardPlan, tp: TargetPlan): ShardInfo {
  const mine = plan.shards[shard.index];
  return {
    index: shard.index,
    count: shard.count,
    tag: shardTag(shard),
    plan: plan.hash,
    pieces: plan.shards.reduce((n, s) => n + s.length, 0),
    total_bytes: plan.totalBytes,
    bytes: mine.reduce((n, p) => n + p.bytes, 0),
    bytes_per_shard: plan.shards.map((s) => s.reduce((n, p) => n + p.bytes, 0)),
    output_format: tp.outputFormat,
    config_hash: jobConfigHash(job, tp.outputFormat),
    batch_size: job.batchSize,
    splits: plan.splits,
  };
}

// A piece as the record shows it, and as the reader reads it.
function pieceRange(p: Piece): PieceRange | undefined {
  if (!p.range) return undefined;
  const { start, end } = p.range;
  const r: PieceRange = { start: start.offset, end: end.offset, file_bytes: p.fileBytes };
  if (start.group !== undefined || end.group !== undefined) {
    Object.assign(r, { row_groups: [start.group ?? 0, end.group ?? null], first_row: (start.row ?? 0) + 1 });
  } else {
    r.line = start.line ?? 1;
  }
  return r;
}

function pieceSpec(p: Piece | undefined): PieceSpec | undefined {
  if (!p?.range) return undefined;
  const { start, end } = p.range;
  return { start: start.offset, end: end.offset, line: start.line, header: p.header, fromGroup: start.group, toGroup: end.group };
}

// The ledger of an incremental job (also read by --dry-run, to show what it would skip), unless this run must
// not use it: --limit scores only part of each input, which is neither a reason to skip nor a scoring; a run to
// standard output leaves no result the ledger could point to, so the next run must still score its inputs.
async function openLedger(job: JobConfig, model: LoadedModel, tp: TargetPlan, options: RunOptions, record: RunRecord): Promise<Ledger | undefined> {
  if (!(job.input.incremental || job.input.query?.watermark) || options.limit !== undefined || tp.targets.some((t) => t.output === '-')) return undefined;
  const ledger = await Ledger.open(job.stateDir, job.name, record.run_id, model.sha256, jobConfigHash(job, tp.outputFormat));
  record.incremental = { ledger: ledgerPath(job.stateDir, job.name), reprocess: options.reprocess === true };
  return ledger;
}

// No input may be scored into a result the ledger holds for another input (across runs: that input left the
// listing, another of the same name came): its result would be replaced while the ledger skips it for good.
function checkLedgerOutputs(ledger: Ledger, tp: TargetPlan): void {
  if (tp.combined) return;
  for (const t of tp.targets) {
    const owner = t.output === '-' ? undefined : ledger.resultOwner(t.output, t.input.path);
    if (owner) {
      throw new SbError(
        'OUTPUT_INVALID',
        `${t.display} would replace ${displayPath(t.output)}, the result of ${displayPath(owner.path)} (scored by run ${owner.run_id}, in the ledger ${displayPath(ledger.file)}): rename one of them or use a finer template; if that result may go, remove its entry from the ledger`,
        { yamlPath: 'output.path' },
      );
    }
  }
}

function inputRecord(t: Target, status: InputRecord['status'], error: string | null): InputRecord {
  const range = t.piece ? pieceRange(t.piece) : undefined;
  return {
    path: t.input.path,
    bytes: t.input.bytes ?? null,
    sha256: null,
    rows_in: 0,
    rows_out: 0,
    rows_rejected: 0,
    output: status === 'failed' ? null : t.output,
    rejects: t.rejects ?? null,
    status,
    error,
    reason: null,
    ...(range ? { range } : {}),
    ...(t.query ? { query: queryRecord(t.query) } : {}),
    duration_ms: 0,
  };
}

// Score every input into `records`, through the run's output target (output-target.ts: which files are
// committed when). A stop between inputs drops what is not committed; a stop after every input was scored
// and committed changes nothing (the caller's record then says the run completed).
async function scoreAll(
  job: JobConfig,
  model: LoadedModel,
  plan: RunPlan,
  tp: TargetPlan,
  options: RunOptions,
  emit: (e: RunEvent) => void,
  records: InputRecord[],
  ledger?: Ledger,
  profiling?: { columns: ProfileColumns; profiles: Map<InputRecord, Profile> },
  db: { input?: Database; openTable?: () => Promise<TableWriter> } = {},
): Promise<void> {
  const runSpec = runSpecOf(plan);
  const out = outputTarget(tp, {
    openWriter: (target) =>
      db.openTable ? db.openTable() : openTableWriter(target, { format: tp.outputFormat, floatPrecision: job.output.floatPrecision, batchSize: job.batchSize, names: () => resultNames(plan), fields: () => resultFields(plan, model), fast: fastPathEnabled(), signal: options.signal }),
    signal: options.signal,
  });
  /** Inputs whose rows are in the combined result, and their ledger entries once it is committed. */
  const inShared: InputRecord[] = [];
  const sharedLedger: ScoredInput[] = [];
  const stopped = () => new SbError('INTERRUPTED', 'no partial results were kept');
  try {
    for (const t of tp.targets) {
      if (options.signal?.aborted) throw stopped();
      const started = Date.now();
      const checked = ledger && !t.query && t.input.path !== '-' ? await ledger.check(openSource(t.input.path, t.display)) : undefined;
      if (checked?.decision.action === 'skip' && !options.reprocess) {
        const rec = inputRecord(t, 'skipped', null);
        Object.assign(rec, { output: null, rejects: null, bytes: checked.state?.size ?? rec.bytes, sha256: checked.state?.sha256 ?? null, reason: checked.decision.reason });
        records.push(rec);
        emit({ type: 'input_finished', job: job.name, input: rec });
        continue;
      }
      emit({ type: 'input_started', job: job.name, input: t.display, bytes: t.input.bytes ?? null });
      const rec = inputRecord(t, 'ok', null);
      if (checked) rec.reason = options.reprocess ? `--reprocess (${checked.decision.reason})` : checked.decision.reason;
      let writers: InputWriters;
      try {
        writers = await out.open(t);
      } catch (err) {
        if (!(err instanceof SbError)) throw err;
        Object.assign(rec, { status: 'failed', error: err.describe(), output: null });
        records.push(rec);
        // Waiting for the reader of a stream output, the run was stopped.
        if (err.code === 'INTERRUPTED') throw stopped();
        emit({ type: 'input_finished', job: job.name, input: rec });
        continue;
      }
      const profile = profiling && new ChunkProfiler(profiling.columns, plan);
      let done = false;
      let watermark: string | undefined;
      try {
        const c = await scoreInput(t.input.path, t.display, t.format, {
          // A percentage of rejects is a share of the whole file: merge checks it over a split file's pieces.
          job: t.piece?.range && job.errors.maxRejected.kind === 'percent' ? { ...job, errors: { ...job.errors, maxRejected: { kind: 'count', count: Infinity } } } : job,
          plan,
          model,
          runSpec,
          writer: writers.writer,
          rejects: writers.rejects,
          limit: options.limit,
          piece: pieceSpec(t.piece),
          query: t.query,
          signal: options.signal,
          profile,
          onProgress: (rows, bytes) => options.onProgress?.({ input: t.display, rows, bytes, totalBytes: t.input.bytes }),
        }, t.input.bytes);
        Object.assign(rec, { rows_in: c.rowsIn, rows_out: c.rowsOut, rows_rejected: c.rowsRejected, bytes: t.query ? null : t.piece?.range ? t.piece.bytes : c.bytes, sha256: c.sha256 ?? null });
        if (c.rowsRejected === 0) rec.rejects = null;
        if (rec.query?.watermark) rec.query.watermark.to = c.watermark ?? null;
        watermark = c.watermark;
        await out.inputDone(t, c.rowsOut);
        done = true;
        if (profile) profiling.profiles.set(rec, profile.profiler.finish());
      } catch (err) {
        const cause = err instanceof InputFailure ? err.error : err;
        if (!(cause instanceof SbError)) throw cause;
        if (err instanceof InputFailure) {
          const c = err.counts;
          Object.assign(rec, { rows_in: c.rowsIn, rows_out: c.rowsOut, rows_rejected: c.rowsRejected, bytes: c.bytes });
          if (c.rowsRejected === 0) rec.rejects = null;
        }
        Object.assign(rec, { status: 'failed', error: cause.describe(), output: null });
        // The reader of a stream output went away (`| head`): nothing more can reach it, so the run stops.
        if (cause.code === 'OUTPUT_CLOSED') rec.error = `${cause.message} after ${writers.writer.rows.toLocaleString('en-US')} result rows`;
        if (cause.code === 'INTERRUPTED') rec.error = stopOutcome(options.signal?.reason, cause).error;
        if (cause.code === 'INTERRUPTED' || cause.code === 'OUTPUT_CLOSED') {
          records.push(rec);
          throw cause.code === 'OUTPUT_CLOSED' ? new SbError('OUTPUT_CLOSED', `${rec.error}; the run stopped there`) : cause;
        }
        const { rolledBack, rejectsError } = await out.inputFailed(t);
        // A stream (standard output, a FIFO, a device) cannot take back what it was sent.
        if (!rolledBack) rec.error += ` (rows already written to ${t.output === '-' ? 'standard output' : displayPath(t.output)} before the failure stay there)`;
        if (rejectsError && rec.rejects) Object.assign(rec, { rejects: null, error: `${rec.error}; its rejected rows could not be written: ${rejectsError.describe()}` });
      }
      rec.duration_ms = Date.now() - started;
      records.push(rec);
      // Its result is committed (or waits in the combined result) whatever happens to the ledger.
      const scored = !done ? undefined : checked && rec.sha256 ? await ledgerEntry(t, rec, rec.sha256, checked, options) : db.input && watermark !== undefined ? watermarkScored(job, db.input, rec, watermark, options.now?.() ?? new Date()) : undefined;
      if (tp.combined && rec.status === 'ok') {
        inShared.push(rec);
        if (scored) sharedLedger.push(scored);
      }
      emit({ type: 'input_finished', job: job.name, input: rec });
      if (scored && !tp.combined) await ledger?.add([scored]);
    }
    // Stopped after the last input, before its combined result was committed: that result is dropped too.
    if (options.signal?.aborted && out.pending) throw stopped();
    const error = await out.finish();
    if (error) for (const r of inShared) Object.assign(r, { status: 'failed', error: error.describe(), output: null });
    if (inShared.some((r) => r.status === 'ok')) await ledger?.add(sharedLedger);
  } catch (err) {
    // Inputs whose rows were dropped with the combined result are not in any result.
    if ((await out.abort()) && err instanceof SbError) {
      const error = err.code === 'INTERRUPTED' ? stopOutcome(options.signal?.reason, err).error : err.describe();
      for (const r of inShared) Object.assign(r, { status: 'failed', error, output: null });
    }
    throw err;
  }
}

// The run's profile from its scored inputs (failed ones are not in the results, so not in the profile), written
// beside the record and summarised in it; with a reference, the monitor section and its alerts (unless this
// is one shard of a run, whose drift merge computes on the whole, or a --limit preview of the first rows).
async function finishProfile(
  job: JobConfig,
  record: RunRecord,
  stateName: string,
  p: { columns: ProfileColumns; profiles: Map<InputRecord, Profile>; reference?: Profile; drift: boolean },
  emit: (e: RunEvent) => void,
  warn: (message: string) => void,
): Promise<void> {
  const inputs = record.inputs.flatMap((r) => {
    const profile = r.status === 'ok' ? p.profiles.get(r) : undefined;
    return profile ? [{ path: r.path, profile }] : [];
  });
  const run = runProfile(p.columns, inputs);
  const drift = await saveRunProfile(job, record, stateName, { columns: p.columns, run, inputs, reference: p.reference, drift: p.drift }, warn);
  if (!drift) return;
  emit({ type: 'drift', job: job.name, monitor: drift.monitor });
  for (const message of drift.warnings) emit({ type: 'warning', job: job.name, message });
}

// The ledger entry of an input whose result was just committed.
async function ledgerEntry(t: Target, rec: InputRecord, sha256: string, checked: Checked, options: RunOptions): Promise<ScoredInput> {
  const mtimeMs = checked.state?.mtimeMs ?? (await openSource(t.input.path, t.display).stat().catch(() => undefined))?.mtimeMs ?? 0;
  const now = options.now?.() ?? new Date();
  return {
    path: t.input.path,
    size: rec.bytes ?? 0,
    mtime_ms: mtimeMs,
    sha256,
    ...(checked.state?.identity !== undefined ? { identity: checked.state.identity } : {}),
    scored_at: now.toISOString(),
    output: rec.output === '-' ? null : rec.output,
    rows_in: rec.rows_in,
    rows_out: rec.rows_out,
    rows_rejected: rec.rows_rejected,
  };
}
