// `serve-batch schedule`: check every job, then run the scheduler until SIGTERM/SIGINT (exit 0); SIGHUP
// reloads the job files. Each fire runs in its own process (src/schedule/runner.ts).
import type { JobConfig } from '../job/config.js';
import { exitCodeFor, messageOf, SbError } from '../errors.js';
import { Daemon } from '../schedule/daemon.js';
import { loadJobSet, type JobSet } from '../schedule/jobs.js';
import { checkInChild, childRunner } from '../schedule/runner.js';
import { authority, parseListenAddress, type ListenAddress } from '../schedule/http/address.js';
import { checkToken } from '../schedule/http/auth.js';
import { SchedulerMetrics } from '../schedule/http/prometheus.js';
import { startStatusServer, type StatusServer } from '../schedule/http/server.js';
import { SchedulerStatus } from '../schedule/http/status.js';
import { displayPath } from '../util/display.js';
import { DEFAULT_GRACE, parseDuration } from '../util/duration.js';
import { createLogger, type Logger, type LogFormat } from './logger.js';
import { reportError } from './report-error.js';
import { describeEvent } from './schedule-log.js';

export interface ScheduleOptions {
  grace?: string;
  logFormat?: LogFormat;
  /** HOST:PORT of the status server (else SERVE_BATCH_HTTP; else none). */
  http?: string;
  /** Bearer token allowing "run now" (else SERVE_BATCH_HTTP_TOKEN). */
  httpToken?: string;
}

interface HttpSettings {
  listen: ListenAddress;
  token?: string;
}

// The status server's address and token from the options, then the environment; undefined: no server.
function httpSettings(o: ScheduleOptions, env: NodeJS.ProcessEnv): HttpSettings | undefined {
  const raw = o.http ?? (env.SERVE_BATCH_HTTP || undefined);
  if (raw === undefined) {
    if (o.httpToken !== undefined) throw new SbError('USAGE', '--http-token needs --http (or SERVE_BATCH_HTTP): it allows "run now" on the status server');
    return undefined;
  }
  const listen = parseListenAddress(raw, o.http !== undefined ? '--http' : 'SERVE_BATCH_HTTP');
  const rawToken = o.httpToken ?? (env.SERVE_BATCH_HTTP_TOKEN || undefined);
  const token = rawToken === undefined ? undefined : checkToken(rawToken, o.httpToken !== undefined ? '--http-token' : 'SERVE_BATCH_HTTP_TOKEN');
  return { listen, token };
}

// Start the status server and say where it is (the token is never in the line).
async function startHttp(logger: Logger, s: HttpSettings, status: SchedulerStatus, metrics: SchedulerMetrics): Promise<StatusServer> {
  const server = await startStatusServer({ listen: s.listen, token: s.token, status, metrics, log: (level, event, message, fields) => logger.log(level, event, message, fields) });
  const access = s.token ? 'read-only, except run now with the token' : 'read-only';
  const fields = { url: `${server.url}/`, address: authority(s.listen.host, server.port), exposed: !s.listen.loopback, run_now: Boolean(s.token) };
  if (s.listen.loopback) logger.log('info', 'http', `status page, probes and metrics on ${server.url}/ (this host only; ${access})`, fields);
  else logger.log('warn', 'http', `status page, probes and metrics on ${server.url}/: exposed beyond this host, to every network that reaches ${s.listen.host} (${access})`, fields);
  return server;
}

/** After the grace period (or a timeout), a run that ignores SIGTERM is killed this much later. */
export const KILL_AFTER_MS = 10_000;

// Validate the jobs, then schedule them until a stop signal; 0 on a clean stop, 2 if a job file is invalid.
export async function scheduleCommand(targets: string[], o: ScheduleOptions): Promise<number> {
  const logger = createLogger({ format: o.logFormat, timestamps: true });
  const graceMs = parseDuration(o.grace ?? DEFAULT_GRACE);
  if (graceMs === undefined) return reportError(logger, new SbError('USAGE', `--grace must be a duration like 30s, 2m or 1h (got "${o.grace}")`));
  let http: HttpSettings | undefined;
  try {
    http = httpSettings(o, process.env);
  } catch (err) {
    if (err instanceof SbError) return reportError(logger, err);
    throw err;
  }
  const paths = targets.length > 0 ? targets : ['jobs'];
  const status = new SchedulerStatus();
  const metrics = new SchedulerMetrics({ processMetrics: true });
  // Signals are ours from the start: a SIGHUP's default action would kill the scheduler.
  const signals = startSignals();
  let server: StatusServer | undefined;
  try {
    // Listening before the job files are loaded: probes see the scheduler alive but not yet ready.
    if (http) server = await startHttp(logger, http, status, metrics);
    let set = await loadJobSet(paths, (job) => checkInChild(job));
    logWarnings(logger, set);
    if (set.problems.length > 0) {
      for (const p of set.problems) logger.log('error', 'problem', p);
      logger.log('error', 'invalid', `the scheduler did not start: ${set.problems.length} problem${set.problems.length === 1 ? '' : 's'} in the job files`);
      return exitCodeFor('JOB_INVALID');
    }
    if (signals.stopRequested()) {
      logger.log('info', 'stopped', 'stopped before the scheduler started');
      return 0;
    }
    const daemon = new Daemon({
      runner: childRunner({ killAfterMs: KILL_AFTER_MS }),
      emit: (e) => {
        metrics.observe(e);
        const line = describeEvent(e);
        if (line) logger.log(line.level, line.event, line.message, line.fields);
      },
    });
    await daemon.start(set.jobs);
    status.attach(daemon);
    warnIfIdle(logger, set.jobs);
    // Reloads run one after another; signals that came during start-up are handled now.
    const reload = async () => {
      const next = await loadJobSet(paths, (job) => checkInChild(job), set.byFile);
      if (next.unreadable.length > 0) {
        // A job directory that vanished (a deploy replacing it) must not unschedule everything in it.
        for (const p of next.unreadable) logger.log('error', 'reload_failed', `reload refused, the loaded jobs stay: ${p}`);
        return;
      }
      logWarnings(logger, next);
      for (const p of next.problems) logger.log('error', 'problem', `${p} (reload: the previous version of this job, if any, stays)`);
      set = next;
      await daemon.update(next.jobs);
      warnIfIdle(logger, next.jobs);
    };
    await signals.serve({
      // A reload must never take the scheduler down: whatever fails is logged and the old jobs keep running.
      reload: () => reload().catch((err: unknown) => logger.log('error', 'reload_failed', `reload failed, the loaded jobs stay: ${messageOf(err)}`)),
      stop: () => daemon.stop(graceMs, KILL_AFTER_MS),
    });
    return 0;
  } catch (err) {
    if (err instanceof SbError) return reportError(logger, err);
    throw err;
  } finally {
    await server?.close();
    signals.close();
  }
}

// SIGTERM/SIGINT/SIGHUP listeners installed before anything else; serve() handles them (and those that came
// earlier) until a stop completes. Every stop signal is passed on: the daemon escalates on repeats.
function startSignals() {
  let handlers: { reload: () => Promise<void>; stop: () => Promise<void> } | undefined;
  let stopRequested = 0;
  let reloadRequested = false;
  let chain = Promise.resolve();
  let stopped: Promise<void> | undefined;
  let done: () => void = () => undefined;
  const onStop = () => {
    stopRequested++;
    if (handlers) stopped = handlers.stop();
    void stopped?.then(done);
  };
  const onHup = () => {
    if (!handlers) {
      reloadRequested = true;
      return;
    }
    const h = handlers;
    chain = chain.then(() => h.reload());
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  // Signal listeners do not keep Node running: with no fire armed (no job has a schedule, or none will fire
  // again) the process would exit 0 at once, and a service manager would not restart it. This timer holds it
  // until a stop, so a reload can still bring jobs.
  let keepAlive: NodeJS.Timeout | undefined;
  return {
    serve(h: { reload: () => Promise<void>; stop: () => Promise<void> }): Promise<void> {
      handlers = h;
      keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
      const finished = new Promise<void>((resolve) => (done = resolve));
      if (reloadRequested) onHup();
      if (stopRequested > 0) onStop();
      return finished;
    },
    stopRequested: () => stopRequested > 0,
    close() {
      clearInterval(keepAlive);
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      process.off('SIGHUP', onHup);
    },
  };
}

// Warnings from loading the jobs (model checks), one line each.
function logWarnings(logger: Logger, set: JobSet): void {
  for (const w of set.warnings) logger.log('warn', 'warning', `${displayPath(w.file)}: ${w.message}`, { file: w.file });
}

// Say so when nothing will ever fire.
function warnIfIdle(logger: Logger, jobs: JobConfig[]): void {
  if (!jobs.some((j) => j.schedule)) logger.log('warn', 'idle', 'no job has a schedule: nothing will fire until a reload (SIGHUP) brings one');
}
