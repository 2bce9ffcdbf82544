// runJob(): one run of one job — lock, model, plan, inputs, per-input scoring, run record. Shared by the
// `run` command and the scheduler; returns a RunRecord for success and failure alike and never prints.
import path from 'node:path';
import { exitCodeOf, SbError } from '../errors.js';
import type { JobConfig, TextFormat } from '../job/config.js';
import { resolveJobPath } from '../job/config.js';
import type { TokenValues } from '../job/template.js';
import type { TableWriter } from '../io/csv-writer.js';
import { resolveInputs } from '../io/inputs.js';
import { openTableWriter } from '../io/table-writer.js';
import { loadModel, ORT_VERSION, type LoadedModel } from '../model/session.js';
import { resultNames } from '../pipeline/assemble.js';
import { planRun, type RunPlan } from '../pipeline/plan.js';
import { resultFields } from '../pipeline/result-fields.js';
import { probeWidths } from '../pipeline/probe.js';
import { rejectsSink } from '../pipeline/rejects.js';
import { InputFailure, scoreInput } from '../pipeline/score-input.js';
import type { RunSpec } from '../model/runner.js';
import { VERSION } from '../version.js';
import { acquireLock } from './lock.js';
import { newRunId, totals, type FireInfo, type InputRecord, type RunRecord } from './record.js';
import { saveRecord } from './save.js';
import { planTargets, type Target, type TargetPlan } from './targets.js';

export type RunEvent =
  | { type: 'run_started'; job: string; run_id: string; inputs: number }
  | { type: 'input_started'; job: string; input: string; bytes: number | null }
  | { type: 'input_finished'; job: string; input: InputRecord }
  | { type: 'warning'; job: string; message: string };

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
  outputFormat?: TextFormat;
  /** Replaces input.format (for standard input, which has no name). */
  inputFormat?: TextFormat;
  limit?: number;
  dryRun?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  onProgress?: (p: { input: string; rows: number; bytes: number; totalBytes?: number }) => void;
  now?: () => Date;
}

// Run a job once. Never throws for anything a user can cause: the record says what happened.
export async function runJob(job: JobConfig, options: RunOptions = {}): Promise<RunRecord> {
  if (options.inputFormat) job = { ...job, input: { ...job.input, format: options.inputFormat } };
  const now = options.now ?? (() => new Date());
  const started = now();
  const runId = options.runId ?? newRunId(started);
  const record: RunRecord = {
    job: job.name,
    job_file: job.file,
    run_id: runId,
    trigger: options.trigger ?? 'cli',
    ...(options.fire ? { schedule: options.fire } : {}),
    started_at: started.toISOString(),
    ended_at: started.toISOString(),
    duration_ms: 0,
    status: 'ok',
    exit_code: 0,
    error: null,
    model: { path: job.model.path, sha256: null },
    versions: { serve_batch: VERSION, onnxruntime: ORT_VERSION, node: process.version },
    totals: totals([]),
    inputs: [],
    warnings: [],
    record: null,
  };
  const emit = options.onEvent ?? (() => undefined);
  let release: (() => Promise<void>) | undefined;
  try {
    if (!options.dryRun) {
      const lock = await acquireLock(job.stateDir, job.name, runId);
      if (!lock.held) {
        const o = lock.owner;
        const who = o ? `pid ${o.pid} on ${o.host} (run ${o.run_id}, since ${o.started_at})` : 'another process';
        throw new SbError('LOCKED', `job ${job.name} is already running: ${who}; this run was skipped`);
      }
      release = lock.release;
    }
    const model = await loadModel(job.model.path, { threads: job.model.threads, interThreads: job.model.interThreads, optimization: job.model.optimization });
    record.model.sha256 = model.sha256;
    const plan = planRun(job, model);
    await probeWidths(model, plan, job);
    for (const w of plan.warnings) {
      record.warnings.push(w);
      emit({ type: 'warning', job: job.name, message: w });
    }
    const inputs = await resolveInputs(options.input ? [resolveJobPath(process.cwd(), options.input)] : job.input.patterns, job.input.format);
    const outputTemplate = options.output ? resolveJobPath(process.cwd(), options.output) : job.output.template;
    const targets = planTargets(job, inputs, tokenValues(job, runId, started), outputTemplate, options.outputFormat);
    emit({ type: 'run_started', job: job.name, run_id: runId, inputs: inputs.length });
    if (options.dryRun) {
      record.status = 'dry-run';
      record.inputs = targets.targets.map((t) => inputRecord(t, 'skipped', null));
    } else {
      record.inputs = await scoreAll(job, model, plan, targets, options, emit);
      const failed = record.inputs.filter((i) => i.status === 'failed');
      if (options.signal?.aborted) throw new SbError('INTERRUPTED', 'interrupted: no partial results were kept');
      if (failed.length > 0) {
        record.status = 'failed';
        record.exit_code = 1;
        record.error = `${failed.length} of ${record.inputs.length} input${record.inputs.length === 1 ? '' : 's'} failed: ${failed[0].error}`;
      }
    }
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    record.error = err.describe();
    record.exit_code = exitCodeOf(err);
    record.status = err.code === 'LOCKED' ? 'skipped' : err.code === 'INTERRUPTED' ? 'interrupted' : record.exit_code === 2 ? 'invalid' : 'failed';
    if (err.code === 'INTERRUPTED' && options.signal?.reason === 'SIGTERM') record.exit_code = 143;
  } finally {
    await release?.();
  }
  const ended = now();
  record.ended_at = ended.toISOString();
  record.duration_ms = ended.getTime() - started.getTime();
  record.totals = totals(record.inputs);
  if (!options.dryRun) await saveRecord(job, record);
  return record;
}

function tokenValues(job: JobConfig, runId: string, at: Date): TokenValues {
  const zone = job.schedule?.timezone;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { job: job.name, run_id: runId, date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}${parts.minute}${parts.second}`, shard: '0' };
}

function inputRecord(t: Target, status: InputRecord['status'], error: string | null): InputRecord {
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
    duration_ms: 0,
  };
}

// Score every input: per-input files are opened and committed one by one; a combined file is committed once,
// with a failed input's rows rolled back so the others' results stay.
async function scoreAll(
  job: JobConfig,
  model: LoadedModel,
  plan: RunPlan,
  tp: TargetPlan,
  options: RunOptions,
  emit: (e: RunEvent) => void,
): Promise<InputRecord[]> {
  const runSpec: RunSpec = { fetch: plan.fetch, fixedBatch: plan.tensors.find((t) => t.fixedBatch !== undefined)?.fixedBatch };
  const openWriter = (target: string): Promise<TableWriter> =>
    openTableWriter(target, { format: tp.outputFormat, floatPrecision: job.output.floatPrecision, batchSize: job.batchSize, names: () => resultNames(plan), fields: () => resultFields(plan, model) });
  const rejectsDelimiter = (file: string | undefined) => (file && path.extname(file).toLowerCase() === '.tsv' ? '\t' : ',');
  const records: InputRecord[] = [];
  let shared: TableWriter | undefined;
  const sharedRejects = tp.targets[0]?.rejects && tp.targets.every((t) => t.rejects === tp.targets[0].rejects) ? rejectsSink(tp.targets[0].rejects, rejectsDelimiter(tp.targets[0].rejects)) : undefined;
  try {
    for (const t of tp.targets) {
      if (options.signal?.aborted) break;
      const started = Date.now();
      emit({ type: 'input_started', job: job.name, input: t.display, bytes: t.input.bytes ?? null });
      const rec = inputRecord(t, 'ok', null);
      let writer: TableWriter;
      try {
        writer = tp.combined ? (shared ??= await openWriter(t.output)) : await openWriter(t.output);
      } catch (err) {
        if (!(err instanceof SbError)) throw err;
        Object.assign(rec, { status: 'failed', error: err.describe(), output: null });
        records.push(rec);
        emit({ type: 'input_finished', job: job.name, input: rec });
        continue;
      }
      const rejects = sharedRejects ?? rejectsSink(t.rejects, rejectsDelimiter(t.rejects));
      const mark = tp.combined ? await writer.mark() : undefined;
      try {
        const c = await scoreInput(t.input.path, t.display, t.format, {
          job,
          plan,
          model,
          runSpec,
          writer,
          rejects,
          limit: options.limit,
          signal: options.signal,
          onProgress: (rows, bytes) => options.onProgress?.({ input: t.display, rows, bytes, totalBytes: t.input.bytes }),
        }, t.input.bytes);
        Object.assign(rec, { rows_in: c.rowsIn, rows_out: c.rowsOut, rows_rejected: c.rowsRejected, bytes: c.bytes, sha256: c.sha256 ?? null });
        if (c.rowsRejected === 0) rec.rejects = null;
        if (!tp.combined) await writer.commit();
        if (!sharedRejects) await rejects.commit();
      } catch (err) {
        const cause = err instanceof InputFailure ? err.error : err;
        if (!(cause instanceof SbError)) {
          await writer.abort();
          await rejects.abort();
          throw cause;
        }
        if (err instanceof InputFailure) {
          const c = err.counts;
          Object.assign(rec, { rows_in: c.rowsIn, rows_out: c.rowsOut, rows_rejected: c.rowsRejected, bytes: c.bytes });
          if (c.rowsRejected === 0) rec.rejects = null;
        }
        Object.assign(rec, { status: 'failed', error: cause.describe(), output: null });
        if (cause.code === 'INTERRUPTED') {
          await writer.abort();
          await rejects.abort();
          if (shared && shared !== writer) await shared.abort();
          await sharedRejects?.abort();
          records.push(rec);
          throw cause;
        }
        if (tp.combined) {
          if (mark && !(await writer.rollback(mark))) rec.error += ' (rows already written to stdout before the failure stay there)';
        } else {
          await writer.abort();
        }
        if (!sharedRejects) await rejects.commit().catch(() => undefined);
      }
      rec.duration_ms = Date.now() - started;
      records.push(rec);
      emit({ type: 'input_finished', job: job.name, input: rec });
    }
    if (shared) {
      if (records.some((r) => r.status === 'ok')) await shared.commit();
      else await shared.abort();
    }
    await sharedRejects?.commit();
  } catch (err) {
    await shared?.abort();
    await sharedRejects?.abort();
    throw err;
  }
  return records;
}
