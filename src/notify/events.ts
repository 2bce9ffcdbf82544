// Which notice a finished run gives: exactly one event per run record, so each webhook is sent at most once.
import type { NotifyEvent } from '../job/config.js';
import type { RunRecord } from '../run/record.js';

/** A monitored column above the record's `fail_at` (or that the record marks as failing). */
export interface Alert {
  column: string;
  value: number | null;
  metric: string | null;
  fail_at: number | null;
}

// The columns of a record's monitor section that made the run finish with alerts (exit 4): above fail_at, or
// whose missing share rose too far (run/monitor.ts sets their level to fail).
export function alertsOf(record: RunRecord): Alert[] {
  const m = record.monitor;
  if (!m) return [];
  return m.columns.filter((c) => c.level === 'fail').map((c) => ({ column: c.column, value: c.value, metric: m.metric, fail_at: m.fail_at }));
}

// The event of a finished run: a run that finished with alerts is `alert` (not `ok`); failed and invalid
// runs are `failed`; dry runs give none.
export function eventOf(record: RunRecord, alerts: Alert[] = alertsOf(record)): NotifyEvent | undefined {
  const status = record.status;
  if (status === 'ok' && alerts.length > 0) return 'alert';
  if (status === 'ok') return 'ok';
  if (status === 'failed' || status === 'invalid') return 'failed';
  if (status === 'skipped' || status === 'interrupted') return status;
  return undefined;
}
