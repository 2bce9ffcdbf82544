// `merge`: after the N workers of a sharded run, check that every shard finished and reconciled, and write
// their combined result — the bytes one unsharded run of the job writes — with the combined rejects and a
// run record that lists the shards. Shards are contiguous in input order (run/shards.ts), so the combined
// result is their rows in shard order; what merge adds is the framing an unsharded run has: one header, one
// gzip member per input, Parquet row groups counted from the start of each input.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { exitCodeFor, exitCodeOf, SbError } from '../errors.js';
import type { JobConfig, TextFormat } from '../job/config.js';
import { resolveJobPath } from '../job/config.js';
import { isPerInput, render, type TokenValues } from '../job/template.js';
import { openSink, removeOutdated, type ByteSink } from '../storage/sink.js';
import { TextRows } from '../io/concat.js';
import { openParquetResult, type ParquetResult } from '../io/parquet/index.js';
import type { TableWriter } from '../table/writer.js';
import { formatOf, formatProblem, isGzipName } from '../io/formats.js';
import { gzipSink } from '../io/gzip-sink.js';
import { parquetWriter } from '../io/parquet-writer.js';
import type { ResultChunk, ResultColumn } from '../table/result.js';
import { displayPath } from '../util/display.js';
import { jobConfigHash } from './ledger.js';
import { takeJobLock } from './job-lock.js';
import { checkArtifacts, inputTokens, jobReads, tokenValues, type ReadFile, type Target } from './targets.js';
import { mergeProfiles, parseRunProfile, type InputProfile, type Profile } from '../monitor/index.js';
import { loadReference, runProfile, saveRunProfile } from './monitor.js';
import type { ProfileColumns } from '../pipeline/profile-stage.js';
import { newRunId, startRecord, totals, unreconciled, type InputRecord, type MergeInfo, type RunRecord } from './record.js';
import { saveRecord } from './save.js';
import { beginJournal, endJournal, journalHooks, recoverJournal } from './journal.js';
import { isLocal } from '../storage/backends.js';
import { withStorage, type StorageScope } from '../storage/scope.js';
import { shardStateName } from './shards.js';
import { unredactDeep } from '../util/redact.js';

export interface MergeOptions {
  /** How many shards ran. */
  count: number;
  /** Where the combined result goes (relative to the working directory); default: output.path with {shard} = all. */
  output?: string;
  runId?: string;
  now?: () => Date;
}

/** One shard's latest run (skipped runs aside), or none. */
interface FoundShard {
  index: number;
  record?: RunRecord;
  file?: string;
}

/** An input of the unsharded run: its pieces, in order, with the shard that scored each. */
interface MergedInput {
  path: string;
  fileBytes: number;
  pieces: { shard: number; rec: InputRecord }[];
}

// Merge the shards of a sharded run of `job`. Never throws for anything a user can cause: the record says.
export function mergeJob(job: JobConfig, o: MergeOptions): Promise<RunRecord> {
  return withStorage(job.storage ?? {}, (storage) => mergeIn(job, o, storage));
}

async function mergeIn(job: JobConfig, o: MergeOptions, storage: StorageScope): Promise<RunRecord> {
  const now = o.now ?? (() => new Date());
  const started = now();
  const runId = o.runId ?? newRunId(started);
  const info: MergeInfo = { count: o.count, plan: null, shards: [] };
  // merge runs no model (and does not load ONNX Runtime): its onnxruntime version is the shards'.
  const record: RunRecord = { ...startRecord(job, runId, started, { trigger: 'cli', onnxruntime: 'unknown' }), merge: info };
  let release: (() => Promise<void>) | undefined;
  let journaled = false;
  storage.hooks.warn = (message) => record.warnings.push(message);
  try {
    const tokens = tokenValues(job, runId, started);
    const target = mergeTarget(job, o, tokens);
    const planned = job.output.format ?? formatOf(render(job.output.template, tokens));
    if (planned) checkTargetFormat(target, planned, 'the job writes');
    // The job's own lock: merge writes what an unsharded run of the job writes.
    release = await takeJobLock(job, job.name, runId, `job ${job.name}`, 'merge');
    const recovered = await recoverJournal(job.stateDir, job.name);
    if (recovered) record.warnings.push(recovered);
    const found = await Promise.all(Array.from({ length: o.count }, (_, index) => latestRun(job, index, o.count)));
    info.shards = found.map(summary);
    const done = checkShards(job, found);
    const first = done[0];
    const shardInfo = first.shard;
    if (!shardInfo) throw new SbError('SHARDS', `the record of shard 0 (${first.record}) is not a sharded run's`);
    info.plan = shardInfo.plan;
    record.model.sha256 = first.model.sha256;
    record.versions.onnxruntime = first.versions.onnxruntime;
    const inputs = mergedInputs(done);
    checkRejectLimits(job, inputs);
    // Read and checked before anything is written, like the reference a monitored job names.
    const profiles = job.profile ? await shardProfiles(job, done, inputs, record) : undefined;
    const format = shardInfo.output_format;
    checkTargetFormat(target, format, 'the shards wrote');
    const rejectsTarget = (i: MergedInput) => (job.errors.rejects ? render(job.errors.rejects, isPerInput(job.errors.rejects) ? inputTokens(tokens, i.path) : tokens) : null);
    await checkMergeArtifacts(job, runId, target, format, inputs, rejectsTarget, found);
    if (inputs.length > 0) {
      const rejectsFiles = job.errors.rejects ? inputs.map((i) => render(job.errors.rejects as string, isPerInput(job.errors.rejects as string) ? inputTokens(tokens, i.path) : tokens)) : [];
      await beginJournal(job.stateDir, job.name, runId, [target, ...rejectsFiles].filter(isLocal).map((f) => path.dirname(f)));
      journaled = true;
      Object.assign(storage.hooks, journalHooks(job.stateDir, job.name, runId));
      // Everything is written before anything is committed; the rejects first, as a run does.
      const rejects = await mergeRejects(job, tokens, inputs);
      try {
        const result = await writeCombined(target, format, shardInfo.batch_size, inputs);
        for (const commit of rejects.commits) await commit();
        await result.commit();
      } catch (err) {
        await rejects.abort();
        throw err;
      }
    }
    record.inputs = inputs.map((i) => mergedRecord(i, target, rejectsTarget(i)));
    const mismatch = unreconciled(record.inputs);
    if (mismatch) throw new SbError('RECONCILE', mismatch);
    if (profiles) await saveRunProfile(job, record, job.name, { ...profiles, drift: true });
    if (record.monitor?.level === 'fail') record.exit_code = exitCodeFor('ALERT');
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    record.error = err.describe();
    record.exit_code = exitCodeOf(err);
    record.status = err.code === 'LOCKED' ? 'skipped' : record.exit_code === 2 ? 'invalid' : 'failed';
  } finally {
    if (journaled) await endJournal(job.stateDir, job.name, runId).catch(() => undefined);
    await release?.();
  }
  const ended = now();
  record.ended_at = ended.toISOString();
  record.duration_ms = ended.getTime() - started.getTime();
  record.totals = totals(record.inputs);
  await saveRecord(job, record);
  return record;
}

// The combined result's path: --output, or output.path as an unsharded run renders it.
function mergeTarget(job: JobConfig, o: MergeOptions, tokens: TokenValues): string {
  if (o.output === '-') throw new SbError('USAGE', 'merge writes a file (atomically), not standard output: give --output PATH');
  if (o.output) return resolveJobPath(process.cwd(), o.output);
  if (job.output.table) {
    throw new SbError('USAGE', `output.table: each shard committed its rows into ${job.output.table.table} in a transaction of its own, so there is nothing to merge`, { yamlPath: 'output.table' });
  }
  if (isPerInput(job.output.template)) {
    throw new SbError('USAGE', `output.path gives one file per input (${displayPath(job.output.template)}); merge writes one combined file: give --output PATH`, { yamlPath: 'output.path' });
  }
  return render(job.output.template, tokens);
}

// The files merge writes pass run's check (run/targets.ts) before anything is written: none may be another, an
// input, a shard's result, rejects file or record, the model, the job file or a state file of the job.
async function checkMergeArtifacts(job: JobConfig, runId: string, target: string, format: TextFormat, inputs: MergedInput[], rejectsOf: (i: MergedInput) => string | null, found: FoundShard[]): Promise<void> {
  const targets: Target[] = inputs.map((i) => ({ input: { path: i.path }, display: displayPath(i.path), format, output: target, rejects: rejectsOf(i) ?? undefined }));
  const reads: ReadFile[] = [...jobReads(job, [])];
  for (const f of found) {
    if (f.file) reads.push({ file: f.file, what: `the run record of shard ${f.index}` });
    for (const rec of f.record?.inputs ?? []) {
      // A lone shard's files may be the merged ones: each is read whole before it is replaced.
      const lone = found.length === 1;
      if (rec.output) reads.push({ file: rec.output, what: `the result of shard ${f.index}`, ...(lone ? { replacedBy: 'output.path' as const } : {}) });
      if (rec.rejects) reads.push({ file: rec.rejects, what: `the rejects file of shard ${f.index}`, ...(lone ? { replacedBy: 'errors.rejects' as const } : {}) });
    }
  }
  await checkArtifacts(job, { targets, combined: true, outputFormat: format }, { stateName: job.name, runId, inputs: inputs.map((i) => i.path), reads });
}

// The combined result has the shards' format; its name may add gzip (or leave it out) but not convert.
function checkTargetFormat(target: string, format: TextFormat, who: string): void {
  const problem = formatProblem(target);
  if (problem) throw new SbError('USAGE', `${displayPath(target)}: ${problem}`);
  const named = formatOf(target);
  if (named && named !== format) {
    throw new SbError('USAGE', `${displayPath(target)} names a ${named} file, but ${who} ${format}: merge combines results, it does not convert them; give a .${format} name`);
  }
}

// The latest run of shard `index` that was not skipped (a skipped run did nothing).
async function latestRun(job: JobConfig, index: number, count: number): Promise<FoundShard> {
  const dir = path.join(job.stateDir, 'runs', shardStateName(job.name, { index, count }));
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.endsWith('.profile.json') && !n.startsWith('.'));
  } catch {
    return { index };
  }
  let best: FoundShard = { index };
  for (const name of names) {
    const file = path.join(dir, name);
    let r: RunRecord;
    try {
      // A record shows `${VAR}` where the job's paths hold an environment value: put the value back.
      r = unredactDeep(JSON.parse(await readFile(file, 'utf8')) as RunRecord);
    } catch {
      continue;
    }
    if (!r || typeof r !== 'object' || r.status === 'skipped' || r.status === 'dry-run' || !Array.isArray(r.inputs)) continue;
    const b = best.record;
    if (!b || r.started_at > b.started_at || (r.started_at === b.started_at && r.run_id > b.run_id)) best = { index, record: r, file };
  }
  return best;
}

function summary(f: FoundShard): MergeInfo['shards'][number] {
  const r = f.record;
  if (!r) return { index: f.index, run_id: null, record: null, status: 'missing', inputs: 0, rows_in: 0, rows_out: 0, rows_rejected: 0, output: null };
  const outputs = [...new Set(r.inputs.map((i) => i.output).filter((x): x is string => !!x))];
  return { index: f.index, run_id: r.run_id, record: f.file ?? null, status: r.status, inputs: r.totals.inputs, rows_in: r.totals.rows_in, rows_out: r.totals.rows_out, rows_rejected: r.totals.rows_rejected, output: outputs.length === 1 ? outputs[0] : outputs.length === 0 ? null : `${outputs.length} files` };
}

// Every shard finished ok, reconciled, and belongs to the same plan, model and settings; returns their
// records in shard order.
function checkShards(job: JobConfig, found: FoundShard[]): RunRecord[] {
  const problems: string[] = [];
  for (const f of found) {
    const r = f.record;
    if (!r) {
      problems.push(`shard ${f.index} has not run (no record in ${displayPath(path.join(job.stateDir, 'runs', shardStateName(job.name, { index: f.index, count: found.length })))})`);
    } else if (r.status !== 'ok') {
      problems.push(`shard ${f.index} ${r.status === 'interrupted' ? 'was interrupted' : r.status === 'invalid' ? 'could not run' : 'failed'} (run ${r.run_id}): ${r.error ?? r.status}`);
    } else {
      const mismatch = unreconciled(r.inputs, r.totals);
      if (mismatch) problems.push(`shard ${f.index} does not reconcile (run ${r.run_id}): ${mismatch}`);
    }
  }
  if (problems.length > 0) {
    throw new SbError('SHARDS', `${problems.length} of ${found.length} shard${found.length === 1 ? '' : 's'} did not finish: ${problems.join('; ')}`);
  }
  const records = found.map((f) => f.record as RunRecord);
  const first = records[0];
  const s0 = first.shard;
  for (const r of records) {
    const s = r.shard;
    const k = s?.index ?? '?';
    if (!s || !s0) throw new SbError('SHARDS', `the record ${displayPath(String(r.record))} is not a sharded run's`);
    if (s.plan !== s0.plan) {
      throw new SbError('SHARDS', `shard ${k} planned from another listing of the inputs than shard 0 (plan ${s.plan.slice(0, 12)} vs ${s0.plan.slice(0, 12)}): the inputs changed between the workers' runs; run every shard again`);
    }
    if (r.versions?.serve_batch !== first.versions?.serve_batch || r.versions?.onnxruntime !== first.versions?.onnxruntime) {
      const v = (x: RunRecord) => `serve-batch ${x.versions?.serve_batch}, onnxruntime ${x.versions?.onnxruntime}`;
      throw new SbError('SHARDS', `shard ${k} ran ${v(r)}, shard 0 ${v(first)}: run every shard with the same version`);
    }
    if (r.model.sha256 !== first.model.sha256) throw new SbError('SHARDS', `shard ${k} scored with another model than shard 0 (sha256 ${String(r.model.sha256).slice(0, 12)} vs ${String(first.model.sha256).slice(0, 12)}); run every shard again`);
    if (s.config_hash !== s0.config_hash || s.output_format !== s0.output_format) throw new SbError('SHARDS', `shard ${k} ran with other job settings than shard 0; run every shard again`);
    if (s0.output_format === 'parquet' && s.batch_size !== s0.batch_size) throw new SbError('SHARDS', `shard ${k} ran with batch_size ${s.batch_size}, shard 0 with ${s0.batch_size} (Parquet row groups follow it); run every shard again`);
  }
  if (s0 && s0.config_hash !== jobConfigHash(job, s0.output_format)) {
    throw new SbError('SHARDS', `the job's settings changed since the shards ran (features, predictions, input or output format, …): run every shard again with this job file`, { file: displayPath(job.file) });
  }
  return records;
}

// The shards' pieces, in shard order, as the inputs of an unsharded run; checks that they cover every file.
function mergedInputs(records: RunRecord[]): MergedInput[] {
  const inputs: MergedInput[] = [];
  let pieces = 0;
  for (const [shard, r] of records.entries()) {
    for (const rec of r.inputs) {
      pieces++;
      const last = inputs[inputs.length - 1];
      const start = rec.range?.start ?? 0;
      if (start === 0) {
        if (last) checkCovered(last);
        inputs.push({ path: rec.path, fileBytes: rec.range?.file_bytes ?? rec.bytes ?? 0, pieces: [{ shard, rec }] });
        continue;
      }
      const prev = last?.pieces[last.pieces.length - 1].rec;
      if (!last || last.path !== rec.path || (prev?.range?.end ?? -1) !== start) {
        throw new SbError('RECONCILE', `the shards' pieces of ${displayPath(rec.path)} do not line up (shard ${shard} starts at byte ${start}): run every shard again`);
      }
      last.pieces.push({ shard, rec });
    }
  }
  if (inputs.length > 0) checkCovered(inputs[inputs.length - 1]);
  const planned = records[0].shard?.pieces ?? pieces;
  if (pieces !== planned) throw new SbError('RECONCILE', `the plan has ${planned} pieces but the shards' records hold ${pieces}: run every shard again`);
  return inputs;
}

function checkCovered(i: MergedInput): void {
  const end = i.pieces[i.pieces.length - 1].rec.range?.end;
  if (end !== undefined && end !== i.fileBytes) {
    throw new SbError('RECONCILE', `the shards' pieces of ${displayPath(i.path)} end at byte ${end} of ${i.fileBytes}: run every shard again`);
  }
}

// errors.max_rejected over every piece of a split file (a worker checks a count on its piece as it reads,
// but only the sum can be held against a count or a percentage of the file).
function checkRejectLimits(job: JobConfig, inputs: MergedInput[]): void {
  const limit = job.errors.maxRejected;
  for (const i of inputs) {
    if (i.pieces.length < 2) continue;
    const rejected = i.pieces.reduce((n, p) => n + p.rec.rows_rejected, 0);
    const rowsIn = i.pieces.reduce((n, p) => n + p.rec.rows_in, 0);
    const allowed = limit.kind === 'count' ? limit.count : Math.floor((limit.percent / 100) * rowsIn);
    if (rejected > allowed) {
      const shown = limit.kind === 'count' ? String(limit.count) : `${limit.percent}% = ${allowed} rows`;
      throw new SbError('REJECT_LIMIT', `too many rejected rows across the ${i.pieces.length} pieces of ${displayPath(i.path)}: ${rejected} of ${rowsIn} rows, errors.max_rejected is ${shown}; the combined result was not written`);
    }
  }
}

// The rejects an unsharded run writes: per rejects file (one per input, or one for all), the shards'
// rejects files concatenated with one header; a rejects file without rejects is removed, as a run does.
// Written here, committed (or removed) by the caller.
async function mergeRejects(job: JobConfig, tokens: TokenValues, inputs: MergedInput[]): Promise<{ commits: (() => Promise<void>)[]; abort: () => Promise<void> }> {
  const commits: (() => Promise<void>)[] = [];
  const sinks: ByteSink[] = [];
  const abort = async () => {
    for (const sink of sinks) await sink.abort();
  };
  const template = job.errors.rejects;
  if (!template) return { commits, abort };
  const perInput = isPerInput(template);
  const targets = new Map<string, string[]>();
  for (const i of inputs) {
    const target = render(template, perInput ? inputTokens(tokens, i.path) : tokens);
    const sources = targets.get(target) ?? [];
    for (const p of i.pieces) if (p.rec.rejects && p.rec.rows_rejected > 0 && sources[sources.length - 1] !== p.rec.rejects) sources.push(p.rec.rejects);
    targets.set(target, sources);
  }
  try {
    for (const [target, sources] of targets) {
      if (sources.length === 0) {
        commits.push(() => removeOutdated(target));
        continue;
      }
      if (sources.length === 1 && sources[0] === target) continue;
      const sink = await openSink(target);
      sinks.push(sink);
      for (const [k, source] of sources.entries()) {
        const rows = new TextRows(source, true);
        try {
          const header = await rows.record();
          if (k === 0) await sink.write(header);
          for (;;) {
            const rec = await rows.record();
            if (rec.length === 0) break;
            await sink.write(rec);
          }
        } finally {
          await rows.close();
        }
      }
      commits.push(() => sink.commit());
    }
  } catch (err) {
    await abort();
    throw missingFile(err);
  }
  return { commits, abort };
}

// Write the combined result as an unsharded run writes it (see the file's header); the caller commits it.
async function writeCombined(target: string, format: TextFormat, batchSize: number, inputs: MergedInput[]): Promise<ByteSink> {
  let sink: ByteSink = await openSink(target);
  if (isGzipName(target)) sink = gzipSink(sink);
  try {
    if (format === 'parquet') await writeParquet(sink, batchSize, inputs);
    else await writeText(sink, format !== 'jsonl', inputs);
    return sink;
  } catch (err) {
    await sink.abort();
    throw missingFile(err);
  }
}

// A shard result that is gone is the shard's problem, said as such.
function missingFile(err: unknown): unknown {
  const e = err as SbError & { context?: { file?: string } };
  if (e instanceof SbError && e.code === 'INPUT_FAILED' && /disappeared|cannot read input/.test(e.message)) {
    return new SbError('SHARDS', `a shard's result is missing or unreadable: ${e.describe()}; run that shard again`);
  }
  return err;
}

// CSV/TSV (one header, from the first shard's result) and JSON Lines: each input's rows as the shards wrote
// them, one gzip member per input when the target is gzipped (mark() ends a member).
async function writeText(sink: ByteSink, csv: boolean, inputs: MergedInput[]): Promise<void> {
  let header: Buffer | undefined;
  let headerDone = false;
  let open: { file: string; rows: TextRows } | undefined;
  // Done with a shard result: every byte of it was copied.
  const finish = async () => {
    if (!open) return;
    const extra = !(await open.rows.atEnd());
    await open.rows.close();
    if (extra) throw new SbError('RECONCILE', `the shard result ${displayPath(open.file)} holds more rows than its run record says`);
    open = undefined;
  };
  try {
    for (const i of inputs) {
      await sink.mark();
      for (const p of i.pieces) {
        const file = p.rec.output as string;
        if (open?.file !== file) {
          await finish();
          open = { file, rows: new TextRows(file, csv) };
          if (csv) {
            const h = await open.rows.record();
            header ??= h;
            if (!h.equals(header)) throw new SbError('SHARDS', `the shard result ${displayPath(file)} has other columns than the first shard's`);
          }
        }
        if (p.rec.rows_out === 0) continue;
        if (csv && !headerDone && header) {
          await sink.write(header);
          headerDone = true;
        }
        await open.rows.copy(p.rec.rows_out, (b) => sink.write(b));
      }
    }
    await finish();
  } finally {
    await open?.rows.close();
  }
  if (csv && !headerDone && header) await sink.write(header);
}

// Parquet: the shards' rows decoded and written again by the same writer, so row groups are counted from the
// start of each input as in an unsharded run.
async function writeParquet(sink: ByteSink, batchSize: number, inputs: MergedInput[]): Promise<void> {
  let open: { file: string; result: ParquetResult; group: number; at: number; chunk?: ResultChunk } | undefined;
  let writer: TableWriter | undefined;
  let columns: string | undefined;
  const close = async () => {
    if (!open) return;
    const more = open.group < open.result.groups.length;
    await open.result.close();
    if (more) throw new SbError('RECONCILE', `the shard result ${displayPath(open.file)} holds more rows than its run record says`);
    open = undefined;
  };
  try {
    for (const i of inputs) {
      for (const [k, p] of i.pieces.entries()) {
        const file = p.rec.output as string;
        if (open?.file !== file) {
          await close();
          const result = await openParquetResult(file);
          open = { file, result, group: 0, at: 0 };
          const these = result.fields.map((f) => `${f.name}:${f.type}`).join();
          columns ??= these;
          if (these !== columns) throw new SbError('SHARDS', `the shard result ${displayPath(file)} has other columns than the first shard's`);
          // The writer's commit writes the footer; the file itself is committed by the caller.
          writer ??= parquetWriter({ ...held(sink), commit: async () => undefined }, { fields: () => result.fields, batchSize });
        }
        const o = open as NonNullable<typeof open>;
        const w = writer as TableWriter;
        // An unsharded run closes the row group at the start of each input.
        if (k === 0) await w.mark();
        let left = p.rec.rows_out;
        while (left > 0) {
          if (o.group >= o.result.groups.length) throw new SbError('RECONCILE', `the shard result ${displayPath(file)} holds fewer rows than its run record says`);
          o.chunk ??= await o.result.group(o.group);
          const n = Math.min(left, o.chunk.rows - o.at);
          await w.write(sliceChunk(o.chunk, o.at, n));
          o.at += n;
          left -= n;
          if (o.at >= o.chunk.rows) {
            o.group++;
            o.at = 0;
            o.chunk = undefined;
          }
        }
      }
    }
    await close();
    await writer?.commit();
  } finally {
    await open?.result.close();
  }
}

// The sink's methods, bound (to be passed on with one of them replaced).
function held(sink: ByteSink): ByteSink {
  return { target: sink.target, streamed: sink.streamed, write: (d) => sink.write(d), commit: () => sink.commit(), abort: () => sink.abort(), mark: () => sink.mark(), rollback: (m) => sink.rollback(m) };
}

// Rows [from, from + n) of a chunk.
function sliceChunk(c: ResultChunk, from: number, n: number): ResultChunk {
  if (from === 0 && n === c.rows) return c;
  const columns = c.columns.map((col): ResultColumn => {
    if (col.kind === 'packed') {
      const { bytes, offsets } = col.values;
      const base = offsets[from];
      const o = offsets.slice(from, from + n + 1).map((x) => x - base);
      return { ...col, values: { bytes: bytes.subarray(base, offsets[from + n]), offsets: o } };
    }
    if (col.kind === 'text') return { ...col, values: col.values.slice(from, from + n) };
    const values = col.values as unknown as { subarray(a: number, b: number): never };
    return { ...col, values: values.subarray(from, from + n), stride: 1, offset: 0 } as ResultColumn;
  });
  return { rows: n, columns };
}

/** The shards' profiles combined: what one unsharded run's profile holds. */
interface MergedProfiles {
  columns: ProfileColumns;
  inputs: InputProfile[];
  run: Profile;
  reference?: Profile;
}

// Each shard's profile file (named in its record), its pieces' profiles merged into each input's, and the
// reference of a monitored job; undefined, with a warning, when a shard's run made no profile.
async function shardProfiles(job: JobConfig, records: RunRecord[], inputs: MergedInput[], record: RunRecord): Promise<MergedProfiles | undefined> {
  const byPiece = new Map<InputRecord, Profile>();
  let columns: ProfileColumns | undefined;
  for (const [k, r] of records.entries()) {
    const file = r.profile?.file;
    if (!file) {
      record.warnings.push(`shard ${k} (run ${r.run_id}) has no profile${r.profile ? ' (it could not be written)' : ''}, so the merged run has none; run every shard again to profile it`);
      return undefined;
    }
    const redo = 'run every shard again';
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new SbError('SHARDS', `the profile of shard ${k} cannot be read: ${(err as Error).message}; ${redo}`, { file: displayPath(file) });
    }
    const p = parseRunProfile(text, displayPath(file), { code: 'SHARDS', hint: redo });
    if (p.inputs.length !== r.inputs.length || p.inputs.some((x, i) => x.path !== r.inputs[i].path)) {
      throw new SbError('SHARDS', `the profile of shard ${k} does not list the inputs of its record (run ${r.run_id}); ${redo}`, { file: displayPath(file) });
    }
    p.inputs.forEach((x, i) => byPiece.set(r.inputs[i], x.profile));
    columns ??= { specs: p.profile.columns.map((c) => ({ name: c.name, kind: c.kind })), features: [], predictions: [] };
  }
  if (!columns) return undefined;
  const merged = inputs.map((i) => ({ path: i.path, profile: i.pieces.map((p) => byPiece.get(p.rec) as Profile).reduce((a, b) => mergeProfiles(a, b)) }));
  const reference = await loadReference(job, columns);
  return { columns, inputs: merged, run: runProfile(columns, merged), reference };
}

// One input of the combined record: the sum of its pieces.
function mergedRecord(i: MergedInput, output: string, rejects: string | null): InputRecord {
  const sum = (k: 'rows_in' | 'rows_out' | 'rows_rejected' | 'duration_ms') => i.pieces.reduce((n, p) => n + p.rec[k], 0);
  const whole = i.pieces.length === 1 && !i.pieces[0].rec.range;
  const rejected = sum('rows_rejected');
  return {
    path: i.path,
    bytes: i.fileBytes,
    sha256: whole ? i.pieces[0].rec.sha256 : null,
    rows_in: sum('rows_in'),
    rows_out: sum('rows_out'),
    rows_rejected: rejected,
    output,
    rejects: rejected > 0 ? rejects : null,
    status: 'ok',
    error: null,
    reason: null,
    duration_ms: sum('duration_ms'),
  };
}
