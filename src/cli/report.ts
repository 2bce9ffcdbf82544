// Text renderings of core results for people (JSON callers get the objects themselves).
import type { InputRecord, PieceRange, RunRecord, ShardInfo } from '../run/record.js';
import type { MonitorSection } from '../run/monitor.js';
import type { SplitDecision } from '../io/split.js';
import { counted, displayPath } from '../util/display.js';
import { formatDuration } from '../util/duration.js';
import type { Level } from './logger.js';

const n = (x: number) => x.toLocaleString('en-US');

// `data/a.csv → out/a.csv: 1,000 rows, 3 rejected (0.4s)`; a shard's piece of a file says which part.
export function inputLine(i: InputRecord): string {
  const src = (i.query ? `query on ${i.path}` : displayPath(i.path)) + rangeText(i.range);
  if (i.status === 'failed') return i.error?.startsWith(src) ? `failed: ${i.error}` : `${src}: failed: ${i.error}`;
  if (i.status === 'skipped' && i.reason) return `${src}: skipped, ${i.reason}`;
  if (i.status === 'skipped') return `${src} → ${i.output ? displayPath(i.output) : '-'}: would be scored`;
  const rejected = i.rows_rejected > 0 ? `, ${n(i.rows_rejected)} rejected${i.rejects ? ` (${displayPath(i.rejects)})` : ''}` : '';
  return `${src} → ${i.output === '-' ? 'stdout' : displayPath(i.output ?? '')}: ${counted(i.rows_out, 'row')}${rejected} in ${formatDuration(i.duration_ms)}`;
}

// The level of a finished run's line: a skipped run, or one completed with alerts, warns; any other failure
// is an error.
export function finishedLevel(r: RunRecord): Level {
  return r.exit_code === 0 ? 'info' : r.status === 'skipped' || r.monitor?.level === 'fail' ? 'warn' : 'error';
}

// One-line run summary.
export function runLine(r: RunRecord): string {
  const t = r.totals;
  const skipped = t.skipped ? ` (${t.skipped} skipped: already scored)` : '';
  const counts = `${t.inputs} input${t.inputs === 1 ? '' : 's'}${skipped}, ${counted(t.rows_in, 'row')} in, ${n(t.rows_out)} out, ${n(t.rows_rejected)} rejected`;
  switch (r.status) {
    case 'ok':
      if (t.inputs === 0) return `job ${r.job}: no input files matched; nothing to do`;
      if (r.monitor?.level === 'fail') return `job ${r.job}: completed with alerts — ${r.monitor.alerts.join('; ')}; ${counts} in ${formatDuration(r.duration_ms)}`;
      return `job ${r.job}: ok — ${counts} in ${formatDuration(r.duration_ms)}`;
    case 'dry-run':
      return `job ${r.job}: dry run — ${t.inputs - (t.skipped ?? 0)} input${t.inputs - (t.skipped ?? 0) === 1 ? '' : 's'} would be scored${skipped}; nothing was written`;
    case 'skipped':
      return `job ${r.job}: skipped — ${r.error}`;
    default:
      return `job ${r.job}: ${r.status} — ${r.error ?? counts}`;
  }
}

// `job j: drift (psi against ref.json, warn_at 0.1, fail_at 0.25): tenure 0.012, monthly 0.31 FAIL, plan 0.14 warn`
export function driftLine(job: string, m: MonitorSection): string {
  const columns = m.columns.map((c) => {
    const v = c.value === null ? `n/a (${c.note ?? 'no values'})` : String(Number(c.value.toPrecision(3)));
    const missing = c.missing_ratio > 0 || c.reference_missing_ratio > 0 ? ` missing ${pct(c.missing_ratio)} (ref ${pct(c.reference_missing_ratio)})` : '';
    return `${c.column} ${v}${missing}${c.level === 'ok' ? '' : c.level === 'fail' ? ' FAIL' : ' warn'}`;
  });
  return `job ${job}: drift (${m.metric} against ${displayPath(m.reference)}, warn_at ${m.warn_at}, fail_at ${m.fail_at}): ${columns.join(', ')}`;
}

const pct = (x: number) => `${Number((x * 100).toPrecision(3))}%`;

// ` (bytes 1,048,576–2,097,152 from line 10,234)` or ` (row groups 2–4 from row 131,073)`.
function rangeText(r: PieceRange | undefined): string {
  if (!r) return '';
  if (r.row_groups) return ` (row groups ${r.row_groups[0]}–${r.row_groups[1] === null ? 'end' : r.row_groups[1] - 1} from row ${n(r.first_row ?? 1)})`;
  return ` (bytes ${n(r.start)}–${n(r.end)} from line ${n(r.line ?? 1)})`;
}

// `job j: shard 2 of 7 (plan 3f2a9c1d): 2 pieces, 1.2 MB of 8.4 MB`
export function shardLine(job: string, s: ShardInfo): string {
  return `job ${job}: shard ${s.index} of ${s.count} (plan ${s.plan.slice(0, 12)}): ${s.bytes === 0 ? 'nothing to score' : `${mb(s.bytes)} of ${mb(s.total_bytes)}`}`;
}

// `data/big.csv: split at line starts into 7 pieces (it has no quote characters)` or why it was not split.
export function splitLine(s: SplitDecision): string {
  const path = displayPath(s.path);
  if (s.how === 'whole') return `${path}: not split, one worker scores it: ${s.reason}`;
  return `${path}: ${s.reason.replace(/^split at ([^(]*)/, `split at $1into ${s.pieces} pieces `)}`.replace(/ +\(/, ' (');
}

const mb = (bytes: number) => (bytes < 1e6 ? `${n(bytes)} bytes` : `${(bytes / 1e6).toFixed(1)} MB`);

// `job j: merged 7 shards — 3 inputs, 1,000 rows in, 990 out, 10 rejected → out/all.csv in 0.2s`
export function mergeLine(r: RunRecord): string {
  const t = r.totals;
  const shards = `${r.merge?.count ?? 0} shard${r.merge?.count === 1 ? '' : 's'}`;
  if (r.status === 'ok') {
    const out = r.inputs[0]?.output;
    if (t.inputs === 0) return `job ${r.job}: merged ${shards} — no inputs, nothing to write`;
    const alerts = r.monitor?.level === 'fail' ? ` — completed with alerts: ${r.monitor.alerts.join('; ')}` : '';
    return `job ${r.job}: merged ${shards} — ${t.inputs} input${t.inputs === 1 ? '' : 's'}, ${counted(t.rows_in, 'row')} in, ${n(t.rows_out)} out, ${n(t.rows_rejected)} rejected → ${out ? displayPath(out) : '-'} in ${formatDuration(r.duration_ms)}${alerts}`;
  }
  return `job ${r.job}: merge ${r.status} — ${r.error}`;
}
