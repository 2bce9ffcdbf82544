// `serve-batch schedule`: check every job, then run the scheduler until SIGTERM/SIGINT (exit 0); SIGHUP
// reloads the job files. Each fire runs in its own process (src/schedule/runner.ts).
import type { JobConfig } from '../job/config.js';
import { SbError } from '../errors.js';
import { Daemon } from '../schedule/daemon.js';
import { loadJobSet, type JobSet } from '../schedule/jobs.js';
import { checkInChild, childRunner } from '../schedule/runner.js';
import { displayPath } from '../run/targets.js';
import { parseDuration } from '../util/duration.js';
import { createLogger, type Logger, type LogFormat } from './logger.js';
import { describeEvent } from './schedule-log.js';

export interface ScheduleOptions {
  grace?: string;
  logFormat?: LogFormat;
}

export const DEFAULT_GRACE = '30s';
/** After the grace period (or a timeout), a run that ignores SIGTERM is killed this much later. */
export const KILL_AFTER_MS = 10_000;

export async function scheduleCommand(targets: string[], o: ScheduleOptions): Promise<number> {
  const logger = createLogger({ format: o.logFormat });
  const graceMs = parseDuration(o.grace ?? DEFAULT_GRACE);
  if (graceMs === undefined) {
    logger.log('error', 'usage', `--grace must be a duration like 30s, 2m or 1h (got "${o.grace}")`);
    return 2;
  }
  const paths = targets.length > 0 ? targets : ['jobs'];
  let set = await loadJobSet(paths, (job) => checkInChild(job));
  logWarnings(logger, set);
  if (set.problems.length > 0) {
    for (const p of set.problems) logger.log('error', 'problem', p);
    logger.log('error', 'invalid', `the scheduler did not start: ${set.problems.length} problem${set.problems.length === 1 ? '' : 's'} in the job files`);
    return 2;
  }
  const daemon = new Daemon({
    runner: childRunner({ killAfterMs: KILL_AFTER_MS }),
    emit: (e) => {
      const line = describeEvent(e);
      if (line) logger.log(line.level, line.event, line.message, line.fields);
    },
  });
  await daemon.start(set.jobs);
  warnIfIdle(logger, set.jobs);
  return new Promise<number>((resolve) => {
    let reloading = Promise.resolve();
    const onHup = () => {
      reloading = reloading.then(async () => {
        const next = await loadJobSet(paths, (job) => checkInChild(job), set.byFile);
        logWarnings(logger, next);
        for (const p of next.problems) logger.log('error', 'problem', `${p} (reload: the previous version of this job, if any, stays)`);
        set = next;
        await daemon.update(next.jobs);
        warnIfIdle(logger, next.jobs);
      }).catch((err: unknown) => {
        if (!(err instanceof SbError)) throw err;
        logger.log('error', 'error', `reload failed: ${err.describe()}`);
      });
    };
    const onStop = () => {
      void daemon.stop(graceMs, KILL_AFTER_MS).then(() => {
        process.off('SIGTERM', onStop);
        process.off('SIGINT', onStop);
        process.off('SIGHUP', onHup);
        resolve(0);
      });
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', onHup);
  });
}

function logWarnings(logger: Logger, set: JobSet): void {
  for (const w of set.warnings) logger.log('warn', 'warning', `${displayPath(w.file)}: ${w.message}`, { file: w.file });
}

function warnIfIdle(logger: Logger, jobs: JobConfig[]): void {
  if (!jobs.some((j) => j.schedule)) logger.log('warn', 'idle', 'no job has a schedule: nothing will fire until a reload (SIGHUP) brings one');
}
