// `serve-batch merge <job.yaml> --shards N [--output PATH]`: the combined result of a sharded run.
import { SbError } from '../errors.js';
import { loadJob } from '../job/load.js';
import { mergeJob } from '../run/merge.js';
import type { RunRecord } from '../run/record.js';
import { counted, displayPath } from '../util/display.js';
import { createLogger, type LogFormat } from './logger.js';
import { driftLine, finishedLevel, mergeLine } from './report.js';
import { shardCount } from './shard-options.js';
import { reportError } from './report-error.js';
import { redact } from '../util/redact.js';

export interface MergeCommandOptions {
  shards?: string;
  output?: string;
  json?: boolean;
  quiet?: boolean;
  logFormat?: LogFormat;
}

export async function mergeCommand(file: string, o: MergeCommandOptions): Promise<number> {
  const logger = createLogger({ format: o.logFormat, quiet: o.quiet });
  const count = shardCount(o.shards, process.env);
  if (count === undefined || typeof count === 'object') {
    return reportError(logger, new SbError('USAGE', count?.error ?? 'merge needs the number of shards that ran: --shards N (or SERVE_BATCH_SHARDS)'));
  }
  let job;
  try {
    job = loadJob(file);
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    return reportError(logger, err);
  }
  const record = await mergeJob(job, { count, output: o.output });
  report(logger, record, o);
  return record.exit_code;
}

function report(logger: ReturnType<typeof createLogger>, r: RunRecord, o: MergeCommandOptions): void {
  if (o.json) process.stdout.write(redact(`${JSON.stringify(r)}\n`));
  for (const s of r.merge?.shards ?? []) {
    if (s.status === 'missing') continue;
    const what = s.status === 'ok' ? `${s.inputs} piece${s.inputs === 1 ? '' : 's'}, ${counted(s.rows_out, 'row')}${s.output && !s.output.endsWith(' files') ? ` (${displayPath(s.output)})` : ''}` : s.status;
    logger.log('info', 'shard', `shard ${s.index} of ${r.merge?.count}: run ${s.run_id}: ${what}`, { job: r.job, ...s });
  }
  if (r.monitor) logger.log('info', 'drift', driftLine(r.job, r.monitor), { job: r.job, monitor: r.monitor });
  for (const w of r.warnings) logger.log('warn', 'warning', w, { job: r.job });
  const { inputs: _inputs, ...summary } = r;
  logger.log(finishedLevel(r), 'merge_finished', mergeLine(r), summary);
}
