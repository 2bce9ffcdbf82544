// The bodies a webhook receives: `json`, the run record's summary for any receiver, and `slack`, a Slack
// incoming-webhook message (a `text` fallback for notifications, and blocks).
import { hostname } from 'node:os';
import type { NotifyEvent } from '../job/config.js';
import type { RunCounts, RunRecord } from '../run/record.js';
import { countsOf, errorLine } from '../run/record.js';
import { formatDuration } from '../util/duration.js';
import type { Alert } from './events.js';

export interface JsonNotice extends RunCounts {
  event: NotifyEvent;
  job: string;
  run_id: string;
  status: string;
  exit_code: number;
  trigger: RunRecord['trigger'];
  schedule: RunRecord['schedule'] | null;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  error: string | null;
  warnings: string[];
  alerts: Alert[];
  /** Where the run record was written. */
  record: string | null;
  host: string;
}

// The `json` body: the record's summary (every figure as the record has it; no per-input list).
export function jsonNotice(r: RunRecord, event: NotifyEvent, alerts: Alert[]): JsonNotice {
  return {
    event,
    job: r.job,
    run_id: r.run_id,
    status: r.status,
    exit_code: r.exit_code,
    trigger: r.trigger,
    schedule: r.schedule ?? null,
    started_at: r.started_at,
    ended_at: r.ended_at,
    duration_ms: r.duration_ms,
    ...countsOf(r.totals),
    error: r.error,
    warnings: r.warnings,
    alerts,
    record: r.record,
    host: hostname(),
  };
}

const EMOJI: Record<NotifyEvent, string> = { ok: ':white_check_mark:', failed: ':x:', alert: ':warning:', skipped: ':fast_forward:', interrupted: ':octagonal_sign:' };
const WORDS: Record<NotifyEvent, string> = { ok: 'finished', failed: 'failed', alert: 'finished with alerts', skipped: 'was skipped', interrupted: 'was interrupted' };
/** Slack cuts a section's text at 3,000 characters. */
const MAX_SECTION = 2900;
/** Alerts listed one per line; the rest are counted. */
const MAX_ALERTS = 20;

const n = (x: number) => x.toLocaleString('en-US');
// Text for Slack's mrkdwn: &, < and > are its only control characters (Slack's "Escaping text").
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

// `job churn failed (exit 1): model output 'x' not found`: the one line of a notice.
function headline(r: RunRecord, event: NotifyEvent): string {
  const exit = r.exit_code !== 0 ? ` (exit ${r.exit_code})` : '';
  const why = event !== 'ok' && event !== 'alert' && r.error ? `: ${errorLine(r.error)}` : '';
  return `serve-batch: job ${r.job} ${WORDS[event]}${exit}${why}`;
}

// The `slack` body.
export function slackNotice(r: RunRecord, event: NotifyEvent, alerts: Alert[]): { text: string; blocks: unknown[] } {
  const t = r.totals;
  const exit = r.exit_code !== 0 ? ` (exit ${r.exit_code})` : '';
  const blocks: unknown[] = [
    { type: 'section', text: mrkdwn(`${EMOJI[event]} *${esc(r.job)}* ${WORDS[event]}${exit}`) },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Rows*\n${n(t.rows_in)} in · ${n(t.rows_out)} out · ${n(t.rows_rejected)} rejected`),
        mrkdwn(`*Inputs*\n${n(t.inputs)}${t.failed > 0 ? ` (${n(t.failed)} failed)` : ''}`),
        mrkdwn(`*Duration*\n${formatDuration(r.duration_ms)}`),
        mrkdwn(`*Run*\n\`${esc(r.run_id)}\``),
      ],
    },
  ];
  if (r.error) blocks.push({ type: 'section', text: mrkdwn(`\`\`\`${esc(cut(r.error, MAX_SECTION - 6))}\`\`\``) });
  if (alerts.length > 0) {
    const lines = alerts.slice(0, MAX_ALERTS).map((a) => `• \`${esc(a.column)}\`: ${a.metric ?? 'drift'} ${a.value ?? '?'}${a.fail_at !== null ? ` (fail_at ${a.fail_at})` : ''}`);
    if (alerts.length > MAX_ALERTS) lines.push(`…and ${alerts.length - MAX_ALERTS} more`);
    blocks.push({ type: 'section', text: mrkdwn(cut(`*Drift alerts*\n${lines.join('\n')}`, MAX_SECTION)) });
  }
  const when = r.schedule ? `${r.schedule.reason} for ${r.schedule.scheduled_for}${r.schedule.attempt > 1 ? `, attempt ${r.schedule.attempt}` : ''}` : `trigger ${r.trigger}`;
  const context = [`${when}`, `host ${hostname()}`, ...(r.record ? [`record ${r.record}`] : [])];
  blocks.push({ type: 'context', elements: [mrkdwn(esc(cut(context.join(' · '), MAX_SECTION)))] });
  return { text: esc(headline(r, event)), blocks };
}
