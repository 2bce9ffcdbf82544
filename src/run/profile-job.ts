// `profile`: the profile of a baseline (the training set, a known-good day) through a job's readers and
// model, so that its predictions are profiled as a run's are, written as the reference a `monitor:` section
// names. Nothing else is written: no results, rejects, ledger, lock or run record.
import { SbError } from '../errors.js';
import type { JobConfig, TextFormat } from '../job/config.js';
import { resolveJobPath } from '../job/config.js';
import { resolveJobInputs } from '../io/inputs.js';
import { loadModel, type LoadedModel } from '../model/session.js';
import type { InputProfile } from '../monitor/index.js';
import { planRun, runSpecOf } from '../pipeline/plan.js';
import { probeWidths } from '../pipeline/probe.js';
import { ChunkProfiler, profileColumns } from '../pipeline/profile-stage.js';
import { rejectsSink } from '../pipeline/rejects.js';
import { InputFailure, scoreInput } from '../pipeline/score-input.js';
import { discardWriter } from '../table/writer.js';
import { displayPath } from '../util/display.js';
import { runProfile, writeProfile } from './monitor.js';
import { formatFor } from './targets.js';

export interface ProfileJobOptions {
  /** The reference file to write (relative to the working directory; '-' = standard output). */
  output: string;
  /** Replaces input.path (relative to the working directory; '-' = standard input). */
  input?: string;
  inputFormat?: TextFormat;
  signal?: AbortSignal;
  onInput?: (i: { path: string; rows_in: number; rows_out: number; rows_rejected: number }) => void;
}

export interface ProfileJobResult {
  file: string;
  inputs: number;
  rows: number;
  rejected: number;
  columns: string[];
  warnings: string[];
}

// Profile the job's inputs (or --input) and write the reference. Throws SbError for anything a user can cause.
export async function profileJob(job: JobConfig, o: ProfileJobOptions): Promise<ProfileJobResult> {
  if (o.inputFormat) job = { ...job, input: { ...job.input, format: o.inputFormat } };
  const file = o.output === '-' ? '-' : resolveJobPath(process.cwd(), o.output);
  let model: LoadedModel | undefined;
  try {
    model = await loadModel(job.model.path, { threads: job.model.threads, interThreads: job.model.interThreads, optimization: job.model.optimization });
    const plan = planRun(job, model);
    await probeWidths(model, plan, job);
    const columns = profileColumns(plan, model);
    const files = await resolveJobInputs(job.input, o.input);
    if (files.length === 0) throw new SbError('PATH_NOT_FOUND', `no input files match ${o.input ? o.input : 'input.path'}: a reference needs a baseline to profile`, o.input ? {} : { yamlPath: 'input.path' });
    const inputs: InputProfile[] = [];
    let rows = 0;
    let rejected = 0;
    for (const f of files) {
      const display = f.path === '-' ? 'standard input' : displayPath(f.path);
      const profile = new ChunkProfiler(columns, plan);
      try {
        const c = await scoreInput(f.path, display, formatFor(job, f.path), { job, plan, model, runSpec: runSpecOf(plan), writer: discardWriter(), rejects: rejectsSink(undefined, ','), signal: o.signal, profile }, f.bytes);
        rows += c.rowsOut;
        rejected += c.rowsRejected;
        o.onInput?.({ path: f.path, rows_in: c.rowsIn, rows_out: c.rowsOut, rows_rejected: c.rowsRejected });
      } catch (err) {
        throw err instanceof InputFailure ? err.error : err;
      }
      inputs.push({ path: f.path, profile: profile.profiler.finish() });
    }
    if (o.signal?.aborted) throw new SbError('INTERRUPTED', `${displayPath(file)} was not written`);
    await writeProfile(file, runProfile(columns, inputs), inputs, undefined);
    return { file, inputs: inputs.length, rows, rejected, columns: columns.specs.map((s) => s.name), warnings: plan.warnings };
  } finally {
    await model?.close();
  }
}
