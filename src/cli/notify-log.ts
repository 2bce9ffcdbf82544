// Log lines for notices (notify:): `notified` (info) when a webhook took it, `notify_failed` (warn) when not.
import type { NotifyOutcome } from '../notify/index.js';
import type { Level, Logger } from './logger.js';

// One outcome as a log entry.
export function noticeEntry(job: string, runId: string, n: NotifyOutcome): { level: Level; event: string; message: string; fields: Record<string, unknown> } {
  const fields = { job, run_id: runId, notify_event: n.event, webhook: n.webhook, format: n.format, attempts: n.attempts, status: n.status, reason: n.reason };
  return n.ok ? { level: 'info', event: 'notified', message: n.message, fields } : { level: 'warn', event: 'notify_failed', message: n.message, fields };
}

// Log one outcome of a run's notices.
export function logNotice(logger: Logger, record: { job: string; run_id: string }, n: NotifyOutcome): void {
  const e = noticeEntry(record.job, record.run_id, n);
  logger.log(e.level, e.event, e.message, e.fields);
}
