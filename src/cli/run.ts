// `serve-batch run`: load each job, run it, report, and return the exit code.
import { SbError } from '../errors.js';
import type { TextFormat } from '../job/config.js';
import { loadJob } from '../job/load.js';
import type { RunEvent } from '../run/run-job.js';
import { coolDown, warmUp } from '../run/warm-up.js';
import type { RunRecord } from '../run/record.js';
import { createLogger, type Logger, type LogFormat } from './logger.js';
import { createProgress } from './progress.js';
import { inputLine, runLine, shardLine, splitLine } from './report.js';
import { chooseShard } from './shard-options.js';
import { worstExitCode, withSignals } from './signals.js';
import { reportLoadError } from './load-error.js';

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
      reportLoadError(logger, err);
      return 2;
    }
  }
  if (o.output === '-' && o.json) {
    logger.log('error', 'usage', '--json and --output - both want stdout: drop one');
    return 2;
  }
  const choice = chooseShard(o, process.env);
  if ('error' in choice) {
    logger.log('error', 'usage', choice.error);
    return 2;
  }
  if (choice.warning) logger.log('warn', 'warning', choice.warning);
  const codes: number[] = [];
  for (const job of jobs) {
    // The model thread (which loads ONNX Runtime) and, for a large input, the reader thread start while the
    // run's modules load.
    await warmUp(job, o);
    const { runJob } = await import('../run/run-job.js');
    const progress = createProgress(!o.quiet && logger.format === 'text' && o.output !== '-');
    const record = await withSignals((signal) =>
      runJob(job, {
        input: o.input,
        output: o.output,
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
    report(logger, record, o);
    codes.push(record.exit_code);
    if (record.status === 'interrupted') break;
  }
  return worstExitCode(codes);
}

function logEvent(logger: Logger, e: RunEvent): void {
  if (e.type === 'warning') logger.log('warn', 'warning', e.message, { job: e.job });
  else if (e.type === 'shard_planned') {
    logger.log('info', 'shard_planned', shardLine(e.job, e.shard), { job: e.job, ...e.shard });
    for (const s of e.shard.splits) logger.log('info', 'shard_split', splitLine(s), { job: e.job, ...s });
  }
  else if (e.type === 'input_finished') {
    const i = e.input;
    logger.log(i.status === 'failed' ? 'error' : 'info', 'input_finished', inputLine(i), { job: e.job, ...i });
  }
}

function report(logger: Logger, r: RunRecord, o: RunCommandOptions): void {
  if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  if (o.dryRun) for (const i of r.inputs) logger.log('info', 'planned', inputLine(i), { job: r.job, input: i.path, output: i.output });
  const level = r.exit_code === 0 ? 'info' : r.status === 'skipped' ? 'warn' : 'error';
  const { inputs: _inputs, ...summary } = r;
  logger.log(level, 'run_finished', runLine(r), summary);
}
