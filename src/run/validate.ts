// validateJob(): everything `run` would check before reading data, plus the first rows of the first input
// pushed through the model (which catches models that need more features than the job gives). Writes nothing.
import { exitCodeOf, SbError } from '../errors.js';
import { withStorage } from '../storage/scope.js';
import { loadJob } from '../job/load.js';
import type { JobConfig } from '../job/config.js';
import { discardWriter } from '../table/writer.js';
import { resolveInputs } from '../io/inputs.js';
import type { LoadedModel } from '../model/session.js';
import { runSpecOf } from '../pipeline/plan.js';
import { featureHint } from '../pipeline/probe.js';
import { rejectsSink } from '../pipeline/rejects.js';
import { profileColumns } from '../pipeline/profile-stage.js';
import { loadReference } from './monitor.js';
import { InputFailure, scoreInput } from '../pipeline/score-input.js';
import { openModelForJob } from './open-model.js';
import { checkArtifacts, jobReads, planTargets, type TargetPlan } from './targets.js';
import { counted } from '../util/display.js';
import { checkQuery, checkTable, jobDatabases, queryInputs, querySpec, toTable, withQuery } from './database.js';
import type { QuerySpec } from '../io/table-reader.js';

const SAMPLE_ROWS = 100;
/** How long the model may take to answer on the sample (or the job's timeout, if shorter): a model that
 *  never answers (a Loop without end) is refused instead of holding `validate` forever. */
const ANSWER_MS = 30_000;

export interface ValidateReport {
  file: string;
  job?: string;
  ok: boolean;
  /** Problems, one line each. */
  problems: string[];
  /** 0 when ok; 1 when the only problem is a store that cannot be reached (try again later); else 2. */
  exit_code: number;
  warnings: string[];
  inputs?: number;
  outputs?: string[];
  sample?: { input: string; rows_in: number; rows_out: number; rows_rejected: number };
}

// How long validate (and the scheduler's start-up check) waits for the model's answer: ANSWER_MS, or the
// job's timeout if shorter.
function answerBound(job: JobConfig): { answerMs: number } {
  return { answerMs: Math.min(ANSWER_MS, job.timeoutMs ?? Infinity) };
}

// What `run` checks before reading data: the model loads and fits the job, within validate's bound. For the
// scheduler's start-up check of each job (in a child process: a model that aborts takes only that down).
export async function checkJobModel(job: JobConfig): Promise<{ problems: string[]; warnings: string[] }> {
  try {
    const opened = await openModelForJob(job, { bounds: answerBound(job) });
    await opened.model.close();
    return { problems: [], warnings: opened.warnings };
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    return { problems: [err.describe()], warnings: [] };
  }
}

// Validate one job file. Never throws for user mistakes: the report lists them.
export async function validateJob(file: string): Promise<ValidateReport> {
  const report: ValidateReport = { file, ok: false, problems: [], warnings: [], exit_code: 2 };
  let job: JobConfig;
  try {
    job = loadJob(file);
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    report.problems.push(...(err.context.problems ?? [err.describe()]));
    return report;
  }
  report.job = job.name;
  return withStorage(job.storage ?? {}, () => validateLoaded(job, report));
}

// validateJob for a job file that loaded: its objects are asked of their store with the job's settings.
async function validateLoaded(job: JobConfig, report: ValidateReport): Promise<ValidateReport> {
  let model: LoadedModel | undefined;
  try {
    const opened = await openModelForJob(job, { bounds: answerBound(job) });
    model = opened.model;
    const plan = opened.plan;
    report.warnings.push(...opened.warnings);
    if (job.profile) await loadReference(job, profileColumns(plan, model));
    const dbs = await jobDatabases(job, 'validate');
    const inputs = dbs.input ? queryInputs(dbs.input) : await resolveInputs(job.input.patterns, job.input.format);
    let targets: TargetPlan = planTargets(job, inputs, { job: job.name, run_id: 'validate', date: 'date', time: 'time', shard: 'all' }, job.output.template);
    if (dbs.output) targets = toTable(targets, job, dbs.output);
    await checkArtifacts(job, targets, { stateName: job.name, runId: 'validate', inputs: dbs.input ? [] : inputs.map((i) => i.path), reads: jobReads(job, model.dataFiles) });
    // The databases: the query with `limit 0` (columns, credentials, privileges), the target table.
    if (dbs.input) await checkQuery(job, dbs.input, plan, withQuery(targets, querySpec(job, 'validate')).targets[0].query as QuerySpec);
    if (dbs.output && !(await checkTable(job, dbs.output, plan, model, 'validate')).exists) {
      report.warnings.push(`table ${job.output.table?.table} does not exist yet on ${dbs.output.display}: the first run creates it (create: true)`);
    }
    report.inputs = inputs.length;
    report.outputs = [...plan.passthrough, ...plan.columns.flatMap((c) => (c.kind === 'threshold' ? [c.name] : c.names))];
    const first = targets.targets[0];
    if (!first) {
      report.warnings.push('no input files match input.path right now: the data could not be checked against the model');
    } else {
      const writer = discardWriter();
      const rejects = rejectsSink(undefined, ',');
      try {
        const c = await scoreInput(first.input.path, first.display, first.format, {
          job: { ...job, errors: { ...job.errors, maxRejected: { kind: 'percent', percent: 100 } } },
          plan,
          model,
          runSpec: runSpecOf(plan),
          writer,
          rejects,
          limit: SAMPLE_ROWS,
          query: first.query,
        });
        report.sample = { input: first.display, rows_in: c.rowsIn, rows_out: c.rowsOut, rows_rejected: c.rowsRejected };
        if (c.rowsRejected > 0) report.warnings.push(`${c.rowsRejected} of the first ${counted(c.rowsIn, 'row')} of ${first.display} would be rejected`);
      } catch (err) {
        const cause = err instanceof InputFailure ? err.error : err;
        if (cause instanceof SbError && cause.code === 'MODEL_RUNTIME') {
          throw new SbError('MODEL_MISMATCH', `the model fails on the first rows of ${first.display}: ${cause.message.replace(/^the model failed on this data: /, '')}${featureHint(job, cause.message)}`);
        }
        throw cause;
      }
    }
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    report.problems.push(err.describe(), ...(err.context.problems ?? []));
    // Data that cannot be read or reached now (a store or a database that does not answer) is not the job's fault.
    report.exit_code = err.code === 'STORAGE_UNAVAILABLE' || err.code === 'DB_UNREACHABLE' ? exitCodeOf(err) : 2;
    return report;
  } finally {
    await model?.close();
  }
  report.ok = true;
  report.exit_code = 0;
  return report;
}
