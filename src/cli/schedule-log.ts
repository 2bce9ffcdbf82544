// Log lines for the scheduler's events: one line per event, as text for people or as JSON fields.
import type { DaemonEvent } from '../schedule/daemon.js';
import { formatLocalIso } from '../cron/tz.js';
import { displayPath } from '../util/display.js';
import type { RunRecord } from '../run/record.js';
import type { Level } from './logger.js';
import { inputLine, runLine } from './report.js';

export interface LogEntry {
  level: Level;
  event: string;
  message: string;
  fields: Record<string, unknown>;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const when = (d: Date | string, tz: string) => formatLocalIso(new Date(d), tz);

// The record as log fields (without the per-input list, which has its own lines).
function recordFields(r: RunRecord): Record<string, unknown> {
  const { inputs: _inputs, ...summary } = r;
  return summary;
}

// One scheduler event → one log line (undefined: not worth a line).
export function describeEvent(e: DaemonEvent): LogEntry | undefined {
  const entry = (level: Level, message: string, fields: Record<string, unknown> = {}): LogEntry => ({ level, event: e.event, message, fields });
  switch (e.event) {
    case 'loaded': {
      const s = e.job.schedule!;
      const next = e.next ? `next fire ${when(e.next, s.timezone)} (${e.next.toISOString()})` : 'it never fires again';
      return entry('info', `job ${e.job.name}: loaded from ${displayPath(e.job.file)}: "${s.cron}" in ${s.timezone}; ${next}`, {
        job: e.job.name, file: e.job.file, cron: s.cron, timezone: s.timezone, next: e.next?.toISOString() ?? null, missed: s.missed, retries: s.retries, timeout_ms: s.timeoutMs ?? null,
      });
    }
    case 'on_demand':
      return entry('info', `job ${e.job.name}: loaded from ${displayPath(e.job.file)}: no schedule, runs on demand only`, { job: e.job.name, file: e.job.file });
    case 'missed': {
      const m = e.missed;
      const count = `${m.more ? 'more than ' : ''}${plural(m.count, 'fire')}`;
      const span = m.last && m.count > 1 ? `${when(m.first, e.timezone)} to ${when(m.last, e.timezone)}` : when(m.first, e.timezone);
      const why = e.atStart ? 'while the scheduler was not running' : 'while the host was suspended or the clock jumped';
      const what = e.action === 'due' ? 'the fire due now runs' : e.action === 'run-once' ? 'running once now (missed: run-once)' : 'not run (missed: skip)';
      return entry('warn', `job ${e.job}: missed ${count} ${why} (${span}); ${what}`, {
        job: e.job, count: m.count, more: m.more, first: m.first.toISOString(), last: m.last?.toISOString() ?? null, action: e.action, at_start: e.atStart,
      });
    }
    case 'fired': {
      const f = e.fire;
      if (f.reason === 'request') return entry('info', `job ${e.job}: run requested over HTTP (run now): run ${e.run_id}`, { job: e.job, run_id: e.run_id, ...f });
      const kind = f.reason === 'retry' ? `retry (attempt ${f.attempt})` : f.reason === 'missed' ? 'missed fire' : 'fire';
      return entry('info', `job ${e.job}: ${kind} for ${when(f.scheduled_for, e.timezone)}: run ${e.run_id}`, { job: e.job, run_id: e.run_id, ...f });
    }
    case 'started':
      return entry('info', `job ${e.job}: run ${e.run_id} started${e.pid ? ` (pid ${e.pid})` : ''}`, { job: e.job, run_id: e.run_id, pid: e.pid ?? null });
    case 'finished':
      return entry('info', runLine(e.record), recordFields(e.record));
    case 'failed':
    case 'interrupted':
      return entry('error', runLine(e.record), recordFields(e.record));
    case 'skipped':
      return entry('warn', runLine(e.record), { ...recordFields(e.record), reason: e.reason });
    case 'retry':
      return entry('warn', `job ${e.job}: run ${e.run_id} failed; retrying at ${when(e.at, e.timezone)} (attempt ${e.attempt} of ${e.attempts})`, {
        job: e.job, run_id: e.run_id, attempt: e.attempt, attempts: e.attempts, at: e.at.toISOString(),
      });
    case 'child_output':
      return entry('warn', `job ${e.job} (run ${e.run_id}${e.pid ? `, pid ${e.pid}` : ''}) ${e.stream}: ${e.line}`, { job: e.job, run_id: e.run_id, pid: e.pid ?? null, stream: e.stream, line: e.line });
    case 'run_event': {
      const r = e.run;
      if (r.type === 'input_finished') return { level: r.input.status === 'failed' ? 'error' : 'info', event: 'input_finished', message: inputLine(r.input), fields: { job: e.job, run_id: e.run_id, ...r.input } };
      if (r.type === 'warning') return { level: 'warn', event: 'warning', message: `job ${e.job}: ${r.message}`, fields: { job: e.job, run_id: e.run_id } };
      return undefined; // run_started, input_started: the scheduler's own `started` line says it
    }
    case 'reloaded': {
      const d = e.diff;
      const part = (what: string, names: string[]) => (names.length > 0 ? [`${what} ${names.join(', ')}`] : []);
      const parts = [...part('added', d.added), ...part('changed', d.changed), ...part('removed', d.removed), `${d.unchanged.length} unchanged`];
      return entry('info', `reloaded job files: ${parts.join('; ')}`, { ...d });
    }
    case 'stopping': {
      const wait = e.running.length > 0 ? `waiting up to ${e.graceMs / 1000}s for ${plural(e.running.length, 'running job')} (${e.running.join(', ')})` : 'nothing is running';
      return entry('info', `stopping: no new runs; ${wait}`, { running: e.running, grace_ms: e.graceMs });
    }
    case 'terminating':
      return entry('warn', `grace period over: stopping ${e.running.join(', ')} cleanly (no partial results are kept)`, { running: e.running });
    case 'killing':
      return entry('warn', `${e.running.join(', ')} did not stop: killing (the next run removes temporary files)`, { running: e.running });
    case 'stopped':
      return entry('info', 'stopped', {});
    case 'warning':
      return entry('warn', e.job ? `job ${e.job}: ${e.message}` : e.message, e.job ? { job: e.job } : {});
  }
}
