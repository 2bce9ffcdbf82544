// The process of one scheduled run (or of one start-up model check), started by the scheduler with
// process.execPath from the built file, so a model that aborts the process, crashes it or leaks memory takes
// down only this process. The scheduler sends one request over IPC; this process answers and exits.
//
// SIGTERM (the scheduler's timeout or shutdown) stops the run at the next chunk with no partial output; SIGINT
// is ignored, because a Ctrl-C on the scheduler's terminal reaches its whole process group and the scheduler
// itself decides whether running jobs get their grace period. A model call that never returns is given up on
// after STOP_GRACE_MS (the run still writes its record and sends it); this process then ends with SIGTERM,
// since it cannot exit while a thread is inside that call.
import type { JobConfig } from '../job/config.js';
import { messageOf, SbError } from '../errors.js';
import type { FireInfo, RunRecord } from '../run/record.js';
import { runJob, type RunEvent } from '../run/run-job.js';
import { checkJobModel } from '../run/validate.js';
import { endBySignal, leftRunning } from '../util/abandon.js';

export type ChildRequest = { type: 'run'; job: JobConfig; runId: string; fire: FireInfo } | { type: 'check'; job: JobConfig };

export type ChildReply =
  | { type: 'event'; event: RunEvent }
  | { type: 'record'; record: RunRecord }
  | { type: 'checked'; problems: string[]; warnings: string[] };

const controller = new AbortController();
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => controller.abort('SIGTERM'));

// Send a reply to the scheduler if it is still there.
function send(reply: ChildReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(reply, undefined, {}, () => resolve());
  });
}

// Everything `run` checks before reading data (run/validate.ts).
async function check(job: JobConfig): Promise<ChildReply> {
  return { type: 'checked', ...(await checkJobModel(job)) };
}

// Serve one request, then leave.
async function serve(req: ChildRequest): Promise<void> {
  try {
    if (req.type === 'check') {
      await send(await check(req.job));
      return;
    }
    const record = await runJob(req.job, {
      trigger: 'schedule',
      runId: req.runId,
      fire: req.fire,
      signal: controller.signal,
      onEvent: (event) => void send({ type: 'event', event }),
    });
    await send({ type: 'record', record });
    process.exitCode = record.exit_code;
  } catch (err) {
    // A bug, not a user error: say it on stderr (the scheduler relays it and writes the run record).
    process.stderr.write(`internal error: ${messageOf(err)}\n`);
    process.exitCode = 70;
  } finally {
    if (process.connected) process.disconnect();
    if (leftRunning().length > 0) endBySignal('SIGTERM');
  }
}

process.once('message', (req: ChildRequest) => void serve(req));
