// `serve-batch run`: load each job, run it, report, and return the exit code.
import { exitCodeOf, SbError } from '../errors.js';
import type { JobConfig, TextFormat } from '../job/config.js';
import { loadJob } from '../job/load.js';
import type { RunEvent } from '../run/run-job.js';
import { coolDown, warmUp } from '../run/warm-up.js';
import type { RunRecord } from '../run/record.js';
import { createLogger, type Logger, type LogFormat } from './logger.js';
import { logNotice } from './notify-log.js';
import { createProgress } from './progress.js';
import { driftLine, finishedLevel, inputLine, runLine, shardLine, splitLine } from './report.js';
import { chooseShard } from './shard-options.js';
import { worstExitCode, withSignals } from './signals.js';
import { reportError } from './report-error.js';
import { printOut } from './stdio.js';

export interface RunCommandOptions {
  input?: string;
  output?: string;
  format?: TextFormat;
  inputFormat?: TextFormat;
  limit?: number;
  dryRun?: boolean;
  reprocess?: boolean;
  shard?: string;
  shards?: string;
  /** Fail each run that takes longer than this (ms), instead of the job's `timeout`. */
  timeout?: number;
  json?: boolean;
  /** false (--no-notify): send none of the jobs' notices. */
  notify?: boolean;
  quiet?: boolean;
  logFormat?: LogFormat;
}

export async function runCommand(files: string[], o: RunCommandOptions): Promise<number> {
  const logger = createLogger({ format: o.logFormat, quiet: o.quiet });
  const jobs = [];
  for (const f of files) {
    try {
      jobs.push(loadJob(f));
    } catch (err) {
      if (!(err instanceof SbError)) throw err;
      return reportError(logger, err);
    }
  }
  if (o.output === '-' && o.json) return reportError(logger, new SbError('USAGE', '--json and --output - both want stdout: drop one'));
  const choice = chooseShard(o, process.env);
  if ('error' in choice) return reportError(logger, new SbError('USAGE', choice.error));
  if (choice.warning) logger.log('warn', 'warning', choice.warning);
  const codes: number[] = [];
  for (const job of jobs) {
    // The model thread (which loads ONNX Runtime) and, for a large input, the reader thread start while the
    // run's modules load.
    warmUp();
    const { runJob } = await import('../run/run-job.js');
    const progress = createProgress(!o.quiet && logger.format === 'text' && o.output !== '-');
    const record = await withSignals((signal) =>
      runJob(job, {
        input: o.input,
        output: o.output,
        stdout: o.json ? 'the run record (--json)' : undefined,
        outputFormat: o.format,
        inputFormat: o.inputFormat,
        limit: o.limit,
        dryRun: o.dryRun,
        reprocess: o.reprocess,
        shard: choice.shard,
        signal,
        timeoutMs: o.timeout,
        onEvent: (e) => {
          progress.stop();
          logEvent(logger, e);
        },
        onProgress: (p) => progress.update(p),
      }),
    );
    progress.stop();
    await coolDown();
    const printed = await report(logger, record, o);
    if (o.notify !== false) await notify(logger, job, record);
    codes.push(record.exit_code);
    if (!printed) codes.push(CLOSED_EXIT);
    // A closed standard output (or another stream output) takes every later job's output with it.
    if (record.status === 'interrupted' || record.exit_code === CLOSED_EXIT) break;
  }
  const code = worstExitCode(codes);
  if (codes.some((c) => c === 130 || c === 143)) exitSoon(code);
  return code;
}

/** How long a stopped run's process may linger after the run ended. */
const LINGER_MS = 1000;

// A run stopped by a signal has cleaned up, but a write may stay queued to a reader that does not read (a
// full pipe on standard output, a terminal on hold): that must not keep the process alive.
function exitSoon(code: number): void {
  setTimeout(() => process.exit(code), LINGER_MS).unref();
}

function logEvent(logger: Logger, e: RunEvent): void {
  if (e.type === 'warning') logger.log('warn', 'warning', e.message, { job: e.job });
  else if (e.type === 'drift') logger.log('info', 'drift', driftLine(e.job, e.monitor), { job: e.job, monitor: e.monitor });
  else if (e.type === 'shard_planned') {
    logger.log('info', 'shard_planned', shardLine(e.job, e.shard), { job: e.job, ...e.shard });
    for (const s of e.shard.splits) logger.log('info', 'shard_split', splitLine(s), { job: e.job, ...s });
  }
  else if (e.type === 'input_finished') {
    const i = e.input;
    logger.log(i.status === 'failed' ? 'error' : 'info', 'input_finished', inputLine(i), { job: e.job, ...i });
  }
}

// Send the run's notices (notify:), one log line each; they never change the run's exit code.
async function notify(logger: Logger, job: JobConfig, record: RunRecord): Promise<void> {
  if (!job.notify?.length) return;
  const { notifyRun } = await import('../notify/index.js');
  const { outcomes, warnings } = await notifyRun(job, record);
  for (const n of outcomes) logNotice(logger, record, n);
  for (const w of warnings) logger.log('warn', 'warning', w, { job: record.job });
}

const CLOSED_EXIT = exitCodeOf(new SbError('OUTPUT_CLOSED', 'closed'));

// Log the run (and print its record with --json); false when standard output's reader had closed it.
async function report(logger: Logger, r: RunRecord, o: RunCommandOptions): Promise<boolean> {
  const printed = o.json ? await printOut(`${JSON.stringify(r)}\n`) : true;
  if (o.dryRun) {
    for (const i of r.inputs) {
      logger.log('info', 'planned', inputLine(i), { job: r.job, input: i.path, output: i.output });
      // A query's plan, as the database would run it (EXPLAIN).
      for (const line of i.query?.plan ?? []) logger.log('info', 'query_plan', `  ${line}`, { job: r.job, input: i.path });
    }
  }
  const { inputs: _inputs, ...summary } = r;
  logger.log(finishedLevel(r), 'run_finished', runLine(r), summary);
  return printed;
}
