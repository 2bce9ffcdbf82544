// Which notice a finished run gives: exactly one event per run record, so each webhook is sent at most once.
import type { NotifyEvent } from '../job/config.js';
import type { RunRecord } from '../run/record.js';
import { driftOf } from '../schedule/http/runs.js';

/** A monitored column above the record's `fail_at` (or that the record marks as failing). */
export interface Alert {
  column: string;
  value: number | null;
  metric: string | null;
  fail_at: number | null;
}

/** Levels a record's monitor section may give a column that count as an alert whatever its value. */
const ALERT_LEVELS = new Set(['fail', 'failed', 'alert']);

// The columns of a record's `monitor` section, read as the status page reads it, that are above fail_at.
export function alertsOf(record: RunRecord): Alert[] {
  const drift = driftOf(record as unknown as Record<string, unknown>);
  if (!drift) return [];
  const over = (v: number | null) => v !== null && drift.fail_at !== null && v > drift.fail_at;
  return drift.columns
    .filter((c) => over(c.value) || (c.level !== null && ALERT_LEVELS.has(c.level)))
    .map((c) => ({ column: c.column, value: c.value, metric: drift.metric, fail_at: drift.fail_at }));
}

// The event of a finished run: a run that finished with alerts is `alert` (not `ok`); failed and invalid
// runs are `failed`; dry runs give none.
export function eventOf(record: RunRecord, alerts: Alert[] = alertsOf(record)): NotifyEvent | undefined {
  const status: string = record.status;
  if (status === 'alert' || (status === 'ok' && alerts.length > 0)) return 'alert';
  if (status === 'ok') return 'ok';
  if (status === 'failed' || status === 'invalid') return 'failed';
  if (status === 'skipped' || status === 'interrupted') return status;
  return undefined;
}
