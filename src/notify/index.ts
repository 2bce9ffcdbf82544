// Notifications of finished runs (`notify:`): which webhooks a run record fires, the POSTs, and the count of
// failed ones in the metrics file. Whatever a webhook does, the run's result, record and exit code stay as
// they were: the outcomes are returned for the caller to log.
//
//   const outcomes = await notifyRun(job, record);   // after the record is written; never throws
//   for (const o of outcomes) log(o.ok ? 'info' : 'warn', o.message);
import type { JobConfig, NotifyEvent, NotifyTarget } from '../job/config.js';
import { messageOf } from '../errors.js';
import { addNotifyFailures } from '../run/metrics.js';
import type { RunRecord } from '../run/record.js';
import { alertsOf, eventOf, type Alert } from './events.js';
import { jsonNotice, slackNotice } from './payload.js';
import { postJson, type PostOptions } from './post.js';

export { alertsOf, eventOf } from './events.js';
export { type JsonNotice } from './payload.js';
export { retryAfter } from './post.js';

/** What became of one webhook of a run. */
export interface NotifyOutcome {
  event: NotifyEvent;
  /** The webhook as logs may name it (never its secret parts). */
  webhook: string;
  format: NotifyTarget['format'];
  ok: boolean;
  attempts: number;
  /** The HTTP status of the last answer; null when none came. */
  status: number | null;
  /** Why it was not delivered. */
  reason: string | null;
  /** The log line. */
  message: string;
}

export type NotifyOptions = Pick<PostOptions, 'backoffMs' | 'retryAfterCapMs' | 'signal'>;

// The webhooks of `targets` that this record's event fires, each sent once; the outcome of each, in order.
export async function sendNotices(targets: NotifyTarget[] | undefined, record: RunRecord, o: NotifyOptions = {}): Promise<NotifyOutcome[]> {
  const alerts = alertsOf(record);
  const event = eventOf(record, alerts);
  if (!event || !targets) return [];
  return Promise.all(targets.filter((t) => t.on.includes(event)).map((t) => sendOne(t, record, event, alerts, o)));
}

// One webhook: its body in its format, posted with its timeout and retries.
async function sendOne(t: NotifyTarget, record: RunRecord, event: NotifyEvent, alerts: Alert[], o: NotifyOptions): Promise<NotifyOutcome> {
  const body = t.format === 'slack' ? slackNotice(record, event, alerts) : jsonNotice(record, event, alerts);
  const r = await postJson(t.url, body, { ...o, timeoutMs: t.timeoutMs, retries: t.retries });
  const what = `job ${record.job}: ${event} notice for run ${record.run_id}`;
  const tries = r.attempts === 1 ? '' : `, after ${r.attempts} attempts`;
  const message = r.ok ? `${what} sent to ${t.shown} (${t.format}, HTTP ${r.status}${tries})` : `${what} not delivered to ${t.shown}: ${r.reason}; the run's result stands`;
  return { event, webhook: t.shown, format: t.format, ok: r.ok, attempts: r.attempts, status: r.status, reason: r.ok ? null : r.reason, message };
}

// Send a finished run's notices and add the undelivered ones to the job's metrics file
// (serve_batch_notify_failures_total). A metrics file that cannot be written adds a failed-looking outcome's
// worth of explanation: a warning line in `warnings`.
export async function notifyRun(job: Pick<JobConfig, 'notify' | 'metricsFile'>, record: RunRecord, o: NotifyOptions = {}): Promise<{ outcomes: NotifyOutcome[]; warnings: string[] }> {
  const outcomes = await sendNotices(job.notify, record, o);
  const failed = outcomes.filter((x) => !x.ok).length;
  const warnings: string[] = [];
  if (failed > 0 && job.metricsFile) {
    try {
      await addNotifyFailures(job.metricsFile, record.job, failed, record.run_id);
    } catch (err) {
      warnings.push(`job ${record.job}: the metrics file could not count the undelivered notices: ${messageOf(err)}`);
    }
  }
  return { outcomes, warnings };
}
