// Durations in job files: `90` (seconds), `30s`, `5m`, `2h`, `1d`, `1h30m`, `250ms`.

/** How long `schedule` lets running jobs finish after SIGTERM/SIGINT unless --grace says otherwise. */
export const DEFAULT_GRACE = '30s';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

// Milliseconds for a duration, or undefined when the text is not one.
export function parseDuration(raw: string | number): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? raw * 1000 : undefined;
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (let m = part.exec(text); m; m = part.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    end = part.lastIndex;
  }
  return end === text.length && end > 0 ? total : undefined;
}

// `1h 2m 3.4s` style rendering for logs.
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.round(s - m * 60)}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}
