// Which file each input's results (and rejects) go to: output templates rendered per input, or one combined
// file. Whether every file of a run can be written without losing another (two artifacts → one file, a
// result over an input, an unwritable directory) is found before anything is read: checkArtifacts.
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { SbError } from '../errors.js';
import type { JobConfig, TextFormat } from '../job/config.js';
import { isPerInput, render, stemOf, type TokenValues } from '../job/template.js';
import { formatOf, formatProblem, isGzipName } from '../io/formats.js';
import { inspectTarget, type TargetKind } from '../storage/local/target.js';
import { isLocal } from '../storage/backends.js';
import { checkWritable } from '../storage/sink.js';
import { displayPath } from '../util/display.js';
import { quoteCell } from '../util/quote.js';
import type { InputFile } from '../io/inputs.js';
import type { QuerySpec } from '../io/table-reader.js';
import { stateDirError, whyUnwritable } from './job-lock.js';
import { journalPath } from './journal.js';
import { ledgerPath } from './ledger.js';
import { lockPath } from './lock.js';
import { metricsLockPath } from './metrics.js';
import { recordPath } from './record.js';
import { scheduleStatePath } from './state-paths.js';
import { shardTag, type Piece, type ShardPlan, type ShardSpec } from './shards.js';

export interface Target {
  input: InputFile;
  /** Sharded runs: the part of the file this target scores (its range is absent for a whole file). */
  piece?: Piece;
  /** The input as shown in messages and in the rejects file. */
  display: string;
  format: TextFormat;
  output: string;
  rejects?: string;
  /** A query input (input.database): its rows are read from the query, not from a file. */
  query?: QuerySpec;
}

export interface TargetPlan {
  targets: Target[];
  /** True when every input goes to one result file. */
  combined: boolean;
  outputFormat: TextFormat;
  /** The result goes to a database table (output.database), which every target's output names: no file. */
  table?: boolean;
}


// The format of an input: input.format, else its name (stdin: the job's own input pattern, else CSV).
export function formatFor(job: JobConfig, file: string): TextFormat {
  const format = job.input.format ?? (file === '-' ? (formatOf(job.input.patterns[0]) ?? 'csv') : formatOf(file));
  if (!format) {
    const problem = formatProblem(file);
    if (problem) throw new SbError('USAGE', `${displayPath(file)}: ${problem}`, { yamlPath: 'input.path' });
    throw new SbError('USAGE', `cannot tell the format of ${displayPath(file)} from its name: set input.format (csv, tsv, jsonl or parquet)`, { yamlPath: 'input.format' });
  }
  return format;
}

// Token values for one input.
// `{shard}` is the worker's index in a sharded run, and `all` otherwise: an unsharded run and `merge`
// write the same combined file.
export function tokenValues(job: JobConfig, runId: string, at: Date, shard?: ShardSpec): TokenValues {
  const zone = job.schedule?.timezone;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { job: job.name, run_id: runId, date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}${parts.minute}${parts.second}`, shard: shard ? shardTag(shard) : 'all' };
}

export function inputTokens(tokens: TokenValues, file: string): TokenValues {
  return { ...tokens, input_stem: stemOf(file === '-' ? 'stdin' : file), input_name: path.basename(file === '-' ? 'stdin' : file) };
}

// Each input's result and rejects file, and the result's format. Whether those files can be written, and
// written without losing anything, is checkArtifacts'.
export function planTargets(job: JobConfig, inputs: (InputFile & { piece?: Piece })[], tokens: TokenValues, outputTemplate: string, outputFormat?: TextFormat): TargetPlan {
  const perInput = isPerInput(outputTemplate) && outputTemplate !== '-';
  const rejectsPerInput = job.errors.rejects !== undefined && isPerInput(job.errors.rejects);
  const targets = inputs.map(({ piece, ...input }): Target => {
    const values = inputTokens(tokens, input.path);
    return {
      input,
      ...(piece ? { piece } : {}),
      display: displayPath(input.path),
      // A query has no format: its rows come with their types (the reader looks at `query`, not this).
      format: job.input.query ? 'csv' : formatFor(job, input.path),
      output: outputTemplate === '-' ? '-' : render(outputTemplate, values),
      rejects: job.errors.rejects ? render(job.errors.rejects, rejectsPerInput ? values : { ...tokens }) : undefined,
    };
  });
  const named = outputTemplate.replace(/\{[^}]*\}/g, 'x');
  const format = outputFormat ?? job.output.format ?? (outputTemplate === '-' ? 'csv' : (formatOf(named) ?? 'csv'));
  // Parquet compresses inside; a gzip around it would make a file no Parquet reader opens.
  const gzipped = targets.find((t) => t.output !== '-' && isGzipName(t.output));
  if ((format === 'parquet' && gzipped) || (!outputFormat && !job.output.format && formatProblem(named))) {
    throw new SbError('OUTPUT_INVALID', `${displayPath(gzipped?.output ?? outputTemplate)}: ${formatProblem('x.parquet.gz')}`, { yamlPath: 'output.path' });
  }
  return { targets, combined: !perInput, outputFormat: format };
}

/** A file a run writes: where, the YAML key that names it, and what it is (for messages). */
interface Artifact {
  file: string;
  yamlPath: 'output.path' | 'errors.rejects' | 'metrics_file' | 'state_dir';
  what: string;
  /** Artifacts of one group may be one file (every input's rows in one combined result); others may not. */
  group: string;
  /** The input whose result or rejects this is. */
  input?: string;
  /** It names a FIFO, device or socket: written through, never replaced. */
  stream?: boolean;
}

/** A file the run reads, which none of its artifacts may be written over. */
export interface ReadFile {
  file: string;
  /** What it is, for messages: `an input`, `the model`, `the shard result of shard 1`. */
  what: string;
  /** The key whose artifact may replace it (merge rewrites a lone shard's result in place, once it read it whole). */
  replacedBy?: Artifact['yamlPath'];
}

export interface ArtifactCheck {
  /** The name the run's state files carry: the job's, or its shard's (see run/shards.ts). */
  stateName: string;
  runId: string;
  /** Every input of the listing (in a sharded run every worker's), none of which may be written over. */
  inputs: string[];
  /** Other files the run reads: the model and its data files, the job file, merge's shard files. */
  reads?: ReadFile[];
  /** What else this run writes to standard output (the record with --json), which no artifact may share. */
  stdout?: string;
}

// The files of a job that a run reads besides its inputs: the model, its data files and the job file.
export function jobReads(job: JobConfig, dataFiles: string[]): ReadFile[] {
  return [
    { file: job.model.path, what: 'the model' },
    ...dataFiles.map((file) => ({ file, what: "a data file of the model" })),
    { file: job.file, what: 'the job file' },
  ];
}

/** Longest file name a result may have: the 255 bytes file systems allow, less the temporary name's additions (`.` + `.<pid>.<8 hex>.sb-tmp`). */
const MAX_NAME_BYTES = 255 - 25;

// Everything about the files a run writes that would make it lose data or fail after reading, checked before
// anything is read — by `run` and, the same way, by `validate`: two of them that are one file (by name or
// through a symlinked directory), a result over an input, a name too long for the file system, a directory
// that cannot be written. Throws OUTPUT_INVALID naming the YAML keys.
// Objects (`s3://…`) are compared by URL and asked of their store (a missing bucket, refused credentials).
export async function checkArtifacts(job: JobConfig, tp: TargetPlan, o: ArtifactCheck): Promise<void> {
  const artifacts = runArtifacts(job, tp, o);
  // What each path is (a file, a stream, a place refused), asked once: a combined result is every input's.
  const kinds = new Map<string, TargetKind>();
  for (const a of artifacts) if (a.file !== '-' && a.yamlPath !== 'state_dir' && !kinds.has(a.file)) kinds.set(a.file, await inspectTarget(a.file));
  for (const a of artifacts) if (a.file !== '-' && a.yamlPath !== 'state_dir' && isLocal(a.file)) a.stream = ['fifo', 'device', 'socket', 'descriptor'].includes((kinds.get(a.file) as TargetKind).kind);
  for (const a of artifacts) if (a.yamlPath !== 'state_dir' && isLocal(a.file)) checkNameLength(a);
  const realDirs = new Map<string, Promise<string | undefined>>();
  // A file the run reads is overwritten by a file written at its name (a symlink there is replaced: the next
  // run would read the result) or at the file its name leads to; an object only at its own URL.
  const reads = new Map<string, ReadFile>();
  for (const r of [...o.inputs.map((file): ReadFile => ({ file, what: 'an input' })), ...(o.reads ?? [])]) {
    if (r.file === '-') continue;
    if (!isLocal(r.file)) {
      reads.set(r.file, r);
      continue;
    }
    reads.set(await whereWritten(r.file, realDirs), r);
    reads.set(await realpath(r.file).catch(() => path.resolve(r.file)), r);
  }
  checkStdout(artifacts, kinds, o.stdout);
  const owners = new Map<string, Artifact>();
  for (const a of artifacts) {
    if (a.file === '-') continue;
    const where = await whereWritten(a.file, realDirs);
    const read = reads.get(where);
    if (read !== undefined && a.yamlPath !== 'state_dir' && read.replacedBy !== a.yamlPath) {
      throw new SbError('OUTPUT_INVALID', `${a.what} would overwrite ${read.what} (${displayPath(read.file)}); write it to another directory`, { yamlPath: a.yamlPath });
    }
    const other = owners.get(where);
    if (other && other.group !== a.group) throw other.stream || a.stream ? sameStream(other, a) : sameFile(other, a);
    owners.set(where, a);
  }
  const stateProblem = await dirProblem(job.stateDir);
  if (stateProblem) throw stateDirError(job, stateProblem);
  // A metrics file that cannot be written is a warning of the run, not a reason to refuse it.
  const dirs = new Set<string>();
  const stores = new Set<string>();
  for (const a of artifacts) {
    if (a.yamlPath === 'state_dir' || a.yamlPath === 'metrics_file' || a.file === '-') continue;
    if (!isLocal(a.file)) {
      // One question per bucket and folder.
      const where = a.file.slice(0, a.file.lastIndexOf('/') + 1);
      if (!stores.has(where)) await checkWritable(a.file).catch((err: unknown) => Promise.reject(err instanceof SbError ? new SbError(err.code, err.message, { yamlPath: a.yamlPath }) : err));
      stores.add(where);
      continue;
    }
    const target = kinds.get(a.file) as TargetKind;
    if (target.kind === 'refused') throw new SbError('OUTPUT_INVALID', `cannot write ${displayPath(a.file)}: ${target.why}`, { yamlPath: a.yamlPath });
    // A stream (FIFO, device, descriptor) is written through: its directory does not matter.
    if (target.kind !== 'file') continue;
    const dir = path.dirname(a.file);
    const err = dirs.has(dir) ? undefined : await dirProblem(dir);
    dirs.add(dir);
    if (err) throw new SbError('OUTPUT_INVALID', `cannot write ${displayPath(a.file)}: ${whyUnwritable(err)}`, { yamlPath: a.yamlPath });
  }
}

// The files of a run, results first, then rejects, the metrics file and the state files.
function runArtifacts(job: JobConfig, tp: TargetPlan, o: ArtifactCheck): Artifact[] {
  const out: Artifact[] = [];
  tp.targets.forEach((t, i) => {
    if (!tp.table) out.push({ file: t.output, yamlPath: 'output.path', what: `the result for ${t.display}`, group: tp.combined ? 'result' : `result ${i}`, input: t.display });
  });
  const sharedRejects = tp.targets.every((t) => t.rejects === tp.targets[0].rejects);
  tp.targets.forEach((t, i) => {
    if (t.rejects) out.push({ file: t.rejects, yamlPath: 'errors.rejects', what: `the rejected rows of ${t.display}`, group: sharedRejects ? 'rejects' : `rejects ${i}`, input: t.display });
  });
  if (job.metricsFile) {
    out.push({ file: job.metricsFile, yamlPath: 'metrics_file', what: 'the metrics file', group: 'metrics' });
    out.push({ file: metricsLockPath(job.metricsFile), yamlPath: 'state_dir', what: "the metrics file's lock", group: 'metrics lock' });
  }
  const state = (file: string, what: string) => out.push({ file, yamlPath: 'state_dir', what, group: what });
  state(recordPath(job.stateDir, o.stateName, o.runId), 'the run record');
  state(lockPath(job.stateDir, o.stateName), "the job's lock");
  if (o.stateName !== job.name) state(lockPath(job.stateDir, job.name), "the job's lock");
  state(journalPath(job.stateDir, o.stateName), "the run's list of directories to clean after a crash");
  // Every job may be incremental or scheduled another day: their files are the job's whatever this run is.
  state(ledgerPath(job.stateDir, job.name), "the job's ledger");
  state(scheduleStatePath(job.stateDir, job.name), "the scheduler's state of the job");
  return out;
}

// Standard output holds one stream: '-' and every name of this process's descriptor 1 (/dev/stdout, /dev/fd/1,
// /proc/self/fd/1) are that stream, and two writers of it would mix their bytes into one. `kinds`: what each
// artifact's path is.
function checkStdout(artifacts: Artifact[], kinds: Map<string, TargetKind>, other: string | undefined): void {
  let first: { what: string; group?: string } | undefined = other === undefined ? undefined : { what: other };
  for (const a of artifacts) {
    if (a.yamlPath === 'state_dir' || !isStdout(a.file, kinds.get(a.file))) continue;
    const what = `${a.what} (${a.yamlPath}: ${a.file === '-' ? '-' : displayPath(a.file)})`;
    if (first && first.group !== a.group) {
      throw new SbError('OUTPUT_INVALID', `${first.what} and ${what} would both be written to standard output, mixed into one stream: send one of them to a file`, { yamlPath: a.yamlPath });
    }
    first ??= { what, group: a.group };
  }
}

// Whether writing `file`, a path of that kind, writes this process's standard output.
function isStdout(file: string, target: TargetKind | undefined): boolean {
  return file === '-' || (target?.kind === 'descriptor' && target.fd === 1);
}

// Two artifacts that would be one file: the later would replace the earlier.
function sameFile(a: Artifact, b: Artifact): SbError {
  if (a.yamlPath === b.yamlPath && a.input && b.input) {
    const what = a.yamlPath === 'output.path' ? '' : ' their rejected rows to';
    return new SbError('OUTPUT_INVALID', `${a.input} and ${b.input} would both write${what} ${displayPath(b.file)}; use {input_name} or a finer template`, { yamlPath: b.yamlPath });
  }
  const file = a.file === b.file ? displayPath(a.file) : `${displayPath(a.file)} (also reached as ${displayPath(b.file)}, through a symlink)`;
  // Point at the key the user can change: not state_dir's fixed layout when the other is a result.
  const yamlPath = b.yamlPath === 'state_dir' ? a.yamlPath : b.yamlPath;
  return new SbError('OUTPUT_INVALID', `${a.what} (${a.yamlPath}) and ${b.what} (${b.yamlPath}) would both be written to ${file}, one replacing the other: give each its own file`, { yamlPath });
}

// Two artifacts on one stream (a FIFO, a device): nothing is replaced, but their bytes would mix.
function sameStream(a: Artifact, b: Artifact): SbError {
  return new SbError('OUTPUT_INVALID', `${a.what} (${a.yamlPath}) and ${b.what} (${b.yamlPath}) would both be written to ${displayPath(b.file)}, mixed into one stream: give each its own file, or leave one out`, { yamlPath: b.yamlPath });
}

// Where a file written by name lands: its directory with symlinks resolved (`realDirs` caches them), and its
// name. A rename replaces a symlink at the name itself, so the last component is not followed.
async function whereWritten(file: string, realDirs: Map<string, Promise<string | undefined>>): Promise<string> {
  if (!isLocal(file)) return file;
  const rest = [path.basename(file)];
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    let real = realDirs.get(dir);
    if (!real) realDirs.set(dir, (real = realpath(dir).catch(() => undefined)));
    const found = await real;
    if (found !== undefined) return path.join(found, ...rest);
    if (path.dirname(dir) === dir) return file;
    rest.unshift(path.basename(dir));
  }
}

// A name too long for the file system fails the write after the input was read: refuse it first.
function checkNameLength(a: Artifact): void {
  const parts = a.file.split(path.sep);
  for (const [i, part] of parts.entries()) {
    const bytes = Buffer.byteLength(part);
    const last = i === parts.length - 1;
    if (bytes > (last ? MAX_NAME_BYTES : 255)) {
      const why = last ? `longer than the ${MAX_NAME_BYTES} bytes a result's name may have (file systems allow 255, and serve-batch first writes it under a temporary name 25 bytes longer)` : 'longer than the 255 bytes file systems allow';
      throw new SbError('OUTPUT_INVALID', `${a.what} would be named ${quoteCell(part)} (${bytes} bytes), ${why}; shorten ${a.yamlPath}`, { yamlPath: a.yamlPath });
    }
  }
}

// Why nothing can be created in `dir` (undefined when it can): the nearest existing one of it and its
// parents (the others are created) must be a directory this process may write.
async function dirProblem(dir: string): Promise<NodeJS.ErrnoException | undefined> {
  for (let d = dir; ; d = path.dirname(d)) {
    const s = await stat(d).catch((err: NodeJS.ErrnoException) => err);
    if (!(s instanceof Error)) {
      if (!s.isDirectory()) return Object.assign(new Error(`${d} is not a directory`), { code: 'ENOTDIR' });
      return access(d, constants.W_OK | constants.X_OK).then(
        () => undefined,
        (err: NodeJS.ErrnoException) => err,
      );
    }
    if ((s.code !== 'ENOENT' && s.code !== 'ENOTDIR') || path.dirname(d) === d) return s;
  }
}

// Sharded runs: every worker must write its own files. Renders the templates for every shard of the plan
// (with this worker's other tokens) and fails when two workers would write the same result or rejects file.
export function checkShardTargets(job: JobConfig, plan: ShardPlan, tokens: TokenValues, outputTemplate: string): void {
  const check = (template: string | undefined, yamlPath: string) => {
    if (!template || plan.count === 1) return;
    const perInput = isPerInput(template);
    const owner = new Map<string, { shard: number; input: string }>();
    plan.shards.forEach((pieces, shard) => {
      for (const p of pieces) {
        const values = { ...(perInput ? inputTokens(tokens, p.path) : tokens), shard: shardTag({ index: shard, count: plan.count }) };
        const file = render(template, values);
        const other = owner.get(file);
        if (other && other.shard !== shard) {
          const what = perInput ? `${displayPath(p.path)} is split between workers ${other.shard} and ${shard}, which` : `workers ${other.shard} and ${shard}`;
          throw new SbError('OUTPUT_INVALID', `${what} would both write ${displayPath(file)}: put {shard} in ${yamlPath}, e.g. ${withShard(template)}`, { yamlPath });
        }
        owner.set(file, { shard, input: p.path });
      }
    });
  };
  check(outputTemplate, 'output.path');
  check(job.errors.rejects, 'errors.rejects');
}

// A template with `-{shard}` before the file's format extension: out/result.csv.gz → out/result-{shard}.csv.gz.
function withShard(template: string): string {
  const shown = displayPath(template);
  const m = /(\.(csv|tsv|tab|jsonl|ndjson|parquet|pq)(\.gz|\.gzip)?)$/i.exec(shown);
  return m ? `${shown.slice(0, m.index)}-{shard}${m[1]}` : `${shown}-{shard}`;
}
