// Text renderings of core results for people (JSON callers get the objects themselves).
import type { InputRecord, RunRecord } from '../run/record.js';
import { displayPath } from '../util/display.js';
import { formatDuration } from '../util/duration.js';

const n = (x: number) => x.toLocaleString('en-US');

// `data/a.csv → out/a.csv: 1,000 rows, 3 rejected (0.4s)`
export function inputLine(i: InputRecord): string {
  const src = displayPath(i.path);
  if (i.status === 'failed') return i.error?.startsWith(src) ? `failed: ${i.error}` : `${src}: failed: ${i.error}`;
  if (i.status === 'skipped' && i.reason) return `${src}: skipped, ${i.reason}`;
  if (i.status === 'skipped') return `${src} → ${i.output ? displayPath(i.output) : '-'}: would be scored`;
  const rejected = i.rows_rejected > 0 ? `, ${n(i.rows_rejected)} rejected${i.rejects ? ` (${displayPath(i.rejects)})` : ''}` : '';
  return `${src} → ${i.output === '-' ? 'stdout' : displayPath(i.output ?? '')}: ${n(i.rows_out)} rows${rejected} in ${formatDuration(i.duration_ms)}`;
}

// One-line run summary.
export function runLine(r: RunRecord): string {
  const t = r.totals;
  const skipped = t.skipped ? ` (${t.skipped} skipped: already scored)` : '';
  const counts = `${t.inputs} input${t.inputs === 1 ? '' : 's'}${skipped}, ${n(t.rows_in)} rows in, ${n(t.rows_out)} out, ${n(t.rows_rejected)} rejected`;
  switch (r.status) {
    case 'ok':
      return t.inputs === 0 ? `job ${r.job}: no input files matched; nothing to do` : `job ${r.job}: ok — ${counts} in ${formatDuration(r.duration_ms)}`;
    case 'dry-run':
      return `job ${r.job}: dry run — ${t.inputs - (t.skipped ?? 0)} input${t.inputs - (t.skipped ?? 0) === 1 ? '' : 's'} would be scored${skipped}; nothing was written`;
    case 'skipped':
      return `job ${r.job}: skipped — ${r.error}`;
    default:
      return `job ${r.job}: ${r.status} — ${r.error ?? counts}`;
  }
}
