// metrics_file: a Prometheus textfile for node_exporter's textfile collector, rewritten atomically after every
// run by whichever entry point ran the job (run, the scheduler, CI).
//
// Several jobs may share one file. Every sample carries a `job_name` label — not `job`, which Prometheus sets
// to the scrape job ("node") and would rename ours to `exported_job` — and a writer replaces only its own job's
// samples, under a short lock file next to the metrics file, so two jobs finishing together never lose each
// other's lines. The file belongs to serve-batch: lines that are not serve-batch samples are dropped.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SbError } from '../errors.js';
import { openSink } from '../storage/sink.js';
import { inspectTarget } from '../storage/local/target.js';
import { acquireLockFile } from './lock.js';
import type { RunRecord } from './record.js';

const P = 'serve_batch_';
// Name → help text, in the order they are written.
const HELP: Record<string, string> = {
  [`${P}last_run_timestamp_seconds`]: 'Unix time the last run of the job ended (runs skipped because of the lock do not count).',
  [`${P}last_success_timestamp_seconds`]: 'Unix time the last successful run of the job ended.',
  [`${P}last_run_status`]: 'Status of the last run: 1 for its status, 0 for the others.',
  [`${P}last_run_exit_code`]: 'Exit code of the last run (0 ok, 4 completed with alerts, 1 failed, 2 invalid, 130/143 interrupted, 141 output closed).',
  [`${P}last_run_duration_seconds`]: 'Duration of the last run.',
  [`${P}last_run_inputs`]: 'Input files of the last run.',
  [`${P}last_run_rows_in`]: 'Rows read by the last run.',
  [`${P}last_run_rows_out`]: 'Result rows written by the last run.',
  [`${P}last_run_rows_rejected`]: 'Rows rejected by the last run.',
  [`${P}last_skipped_timestamp_seconds`]: 'Unix time a run of the job was last skipped because another run held its lock.',
  [`${P}notify_failures_total`]: 'Notices (notify: webhooks) of the job that could not be delivered, over every run that wrote this file.',
  [`${P}drift`]: "Drift of a monitored column in the last run against the job's reference profile (monitor.metric: PSI or Jensen-Shannon distance).",
  [`${P}missing_ratio`]: 'Share of missing values of a monitored column in the last run.',
};
const STATUSES = ['ok', 'failed', 'invalid', 'interrupted'] as const;
const LOCK_WAIT_MS = 5000;
/** How long a metrics FIFO may wait for its reader: metrics never hold up the end of a run for long. */
const STREAM_WAIT_MS = 10_000;

interface Sample {
  name: string;
  labels: string;
  job: string;
  value: string;
}

// The metrics file's new text: `existing` with this record's job's samples replaced.
export function mergeMetrics(existing: string, r: RunRecord): string {
  const samples = parseSamples(existing);
  const others = samples.filter((s) => s.job !== r.job);
  const mine = samples.filter((s) => s.job === r.job);
  const kept = (name: string) => mine.filter((s) => s.name === `${P}${name}`);
  const ended = seconds(r.ended_at);
  const job = `job_name="${r.job}"`;
  const put = (name: string, value: number | string, extra = '') => ({ name: `${P}${name}`, labels: job + extra, job: r.job, value: String(value) });
  let next: Sample[];
  if (r.status === 'skipped') {
    next = [...mine.filter((s) => s.name !== `${P}last_skipped_timestamp_seconds`), put('last_skipped_timestamp_seconds', ended)];
  } else {
    next = [
      put('last_run_timestamp_seconds', ended),
      ...(r.status === 'ok' ? [put('last_success_timestamp_seconds', ended)] : kept('last_success_timestamp_seconds')),
      ...STATUSES.map((s) => put('last_run_status', s === r.status ? 1 : 0, `,status="${s}"`)),
      put('last_run_exit_code', r.exit_code),
      put('last_run_duration_seconds', r.duration_ms / 1000),
      put('last_run_inputs', r.totals.inputs),
      put('last_run_rows_in', r.totals.rows_in),
      put('last_run_rows_out', r.totals.rows_out),
      put('last_run_rows_rejected', r.totals.rows_rejected),
      ...kept('last_skipped_timestamp_seconds'),
      ...kept('notify_failures_total'),
      ...driftSamples(r).flatMap((c) => {
        const column = `,column="${escapeLabel(c.column)}"`;
        return [...(c.value === undefined ? [] : [put('drift', c.value, column)]), ...(c.missing === undefined ? [] : [put('missing_ratio', c.missing, column)])];
      }),
    ];
  }
  return render([...others, ...next]);
}

// Rewrite `file` with this run's samples; waits briefly for another writer of the same file. A stream
// (/dev/null, a FIFO, a socket) has nothing to merge with and no lock: it gets this run's samples.
export async function writeMetrics(file: string, r: RunRecord, signal?: AbortSignal): Promise<void> {
  const kind = (await inspectTarget(file)).kind;
  if (kind !== 'file' && kind !== 'refused') {
    const wait = AbortSignal.timeout(STREAM_WAIT_MS);
    const sink = await openSink(file, { signal: signal ? AbortSignal.any([signal, wait]) : wait });
    try {
      await sink.write(mergeMetrics('', r));
      await sink.commit();
    } finally {
      await sink.abort();
    }
    return;
  }
  await updateFile(file, r.run_id, (existing) => mergeMetrics(existing, r));
}

// Add `count` undelivered notices to the job's serve_batch_notify_failures_total in `file` (a regular file;
// a stream such as a FIFO gets each run's samples once, and no counter).
export async function addNotifyFailures(file: string, job: string, count: number, runId: string): Promise<void> {
  const kind = (await inspectTarget(file)).kind;
  if (kind !== 'file' && kind !== 'refused') return;
  await updateFile(file, runId, (existing) => countNotifyFailures(existing, job, count));
}

// The textfile `existing` with `count` added to the job's notify failures counter.
export function countNotifyFailures(existing: string, job: string, count: number): string {
  const name = `${P}notify_failures_total`;
  const samples = parseSamples(existing);
  const mine = samples.find((s) => s.name === name && s.job === job);
  const value = (mine ? Number(mine.value) || 0 : 0) + count;
  const rest = samples.filter((s) => s !== mine);
  return render([...rest, { name, labels: `job_name="${job}"`, job, value: String(value) }]);
}

// The short lock next to a metrics file (hidden, and not ending in .prom: the collector ignores it).
export function metricsLockPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lock`);
}

// Rewrite `file` with `update(its text)` under the short lock every writer of the file takes.
async function updateFile(file: string, owner: string, update: (existing: string) => string): Promise<void> {
  const lockFile = metricsLockPath(file);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const lock = await acquireLockFile(lockFile, owner).catch((err: unknown) => {
      throw new SbError('WRITE_FAILED', `cannot write ${file}: ${(err as Error).message}`, { file });
    });
    if (lock.held) {
      try {
        const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return '';
          throw new SbError('WRITE_FAILED', `cannot read ${file}: ${err.message}`, { file });
        });
        const sink = await openSink(file);
        await sink.write(update(existing));
        await sink.commit();
        return;
      } finally {
        await lock.release();
      }
    }
    if (Date.now() > deadline) throw new SbError('WRITE_FAILED', `cannot write ${file}: another process kept ${lockFile} for ${LOCK_WAIT_MS / 1000}s`, { file });
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 30));
  }
}

// serve-batch samples of a textfile (everything else is dropped).
function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)\s*$/.exec(line);
    if (!m || !(m[1] in HELP)) continue;
    const job = /(?:^|,)job_name="([^"]*)"/.exec(m[2])?.[1];
    if (job !== undefined) out.push({ name: m[1], labels: m[2], job, value: m[3] });
  }
  return out;
}

// The textfile: each metric once with HELP and TYPE, its samples together, sorted by labels.
function render(samples: Sample[]): string {
  const lines: string[] = [];
  for (const [name, help] of Object.entries(HELP)) {
    // A job's columns keep the record's order (the monitored columns' order); everything else is by labels.
    const byColumn = name === `${P}drift` || name === `${P}missing_ratio`;
    const these = samples.filter((s) => s.name === name).sort((a, b) => (byColumn && a.job === b.job ? 0 : a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
    if (these.length === 0) continue;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${name.endsWith('_total') ? 'counter' : 'gauge'}`, ...these.map((s) => `${name}{${s.labels}} ${s.value}`));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

// Each monitored column's drift and missing share from a record's monitor section, as finite numbers; the
// scheduler's /metrics also feeds records written by other versions through mergeMetrics, so the drift is read
// from `value` or the metric's own field, and a column without numbers gets no sample.
function driftSamples(r: RunRecord): { column: string; value?: number; missing?: number }[] {
  const m = r.monitor;
  if (!m || !Array.isArray(m.columns)) return [];
  const finite = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  return m.columns.flatMap((c) => {
    if (!c || typeof c.column !== 'string') return [];
    const value = finite(c.value) ?? finite((c as unknown as Record<string, unknown>)[m.metric]);
    return [{ column: c.column, value, missing: finite(c.missing_ratio) }];
  });
}

// A label value as the exposition format writes it.
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

// Unix seconds of an ISO instant.
function seconds(iso: string): number {
  return Date.parse(iso) / 1000;
}
