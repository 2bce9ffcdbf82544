// `serve-batch next`: the exact instants the scheduler will fire a job, from the planner the daemon uses.
import { SbError } from '../errors.js';
import { loadJob } from '../job/load.js';
import { upcomingFires } from '../schedule/fires.js';
import { formatLocalIso } from '../cron/tz.js';
import { createLogger, type LogFormat } from './logger.js';
import { reportError } from './report-error.js';
import { redact } from '../util/redact.js';

export interface NextOptions {
  count?: number;
  from?: string;
  json?: boolean;
  logFormat?: LogFormat;
}

export interface NextReport {
  job: string;
  cron: string;
  timezone: string;
  from: string;
  fires: { utc: string; local: string }[];
}

// An ISO 8601 instant with a UTC offset or Z; anything else (a local time, a bare date) is ambiguous.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

// Parse `--from`; throws a USAGE error naming the expected form.
export function parseInstant(raw: string): Date {
  const d = new Date(raw);
  if (!INSTANT.test(raw.trim()) || Number.isNaN(d.getTime())) {
    throw new SbError('USAGE', `--from must be an instant with a UTC offset, like 2025-03-07T12:00:00Z or 2025-03-07T21:00:00+09:00 (got "${raw}")`);
  }
  return d;
}

// The next fires of one job file as plain data (throws SbError for anything a user can cause).
export function planNext(file: string, count: number, from: Date): NextReport {
  const job = loadJob(file);
  if (!job.schedule) throw new SbError('USAGE', `job ${job.name} (${file}) has no schedule: it runs only on demand (add schedule: { cron: ... })`);
  const s = job.schedule;
  const fires = upcomingFires(s, from, count).map((d) => ({ utc: d.toISOString(), local: formatLocalIso(d, s.timezone) }));
  return { job: job.name, cron: s.cron, timezone: s.timezone, from: from.toISOString(), fires };
}

// Print the next fires of a job; 0, or the error's exit code (2 for anything here).
export async function nextCommand(file: string, o: NextOptions): Promise<number> {
  const logger = createLogger({ format: o.logFormat });
  let report: NextReport;
  try {
    report = planNext(file, o.count ?? 5, o.from === undefined ? new Date() : parseInstant(o.from));
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    return reportError(logger, err);
  }
  if (o.json) {
    process.stdout.write(redact(`${JSON.stringify({ job: report.job, timezone: report.timezone, cron: report.cron, from: report.from, fires: report.fires })}\n`));
    return 0;
  }
  const lines = [`job ${report.job}: "${report.cron}" in ${report.timezone}, next ${report.fires.length} after ${report.from}`];
  for (const f of report.fires) lines.push(`${f.local}  ${f.utc}`);
  if (report.fires.length === 0) lines.push('(no fire within 28 years)');
  process.stdout.write(redact(`${lines.join('\n')}\n`));
  return 0;
}
