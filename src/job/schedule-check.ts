// Checks of a job's `schedule:` block that the schema cannot express: the cron expression (our own
// validateCron, the parser the planner uses — not node-cron's, which ANDs day-of-month with day-of-week) and
// the IANA time zone. Used by loadJob, so `validate`, `run`, `next` and `schedule` all report them.
import type { ScheduleConfig } from './config.js';
import { closest } from '../util/suggest.js';
import { validateCron } from '../cron/cron.js';
import { isValidTimeZone } from '../cron/tz.js';

export interface ScheduleProblem {
  message: string;
  /** Key under `schedule` the problem is about. */
  key: 'cron' | 'timezone' | 'timeout';
}

// Every problem with a normalized schedule (empty when it is usable).
export function scheduleProblems(s: ScheduleConfig): ScheduleProblem[] {
  const problems: ScheduleProblem[] = validateCron(s.cron).map((e) => ({ key: 'cron', message: `invalid cron expression "${s.cron}": ${e}` }));
  if (!isValidTimeZone(s.timezone)) {
    const guess = closest(s.timezone, timeZoneNames());
    problems.push({
      key: 'timezone',
      message: `unknown time zone "${s.timezone}"${guess ? `, did you mean '${guess}'?` : ' (give an IANA name such as Europe/Berlin or UTC)'}`,
    });
  }
  if (s.timeoutMs !== undefined && s.timeoutMs <= 0) problems.push({ key: 'timeout', message: 'must be longer than 0 (leave it out for no timeout)' });
  return problems;
}

let zones: string[] | undefined;

// IANA zone names the runtime knows, for did-you-mean.
function timeZoneNames(): string[] {
  zones ??= [...(Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [], 'UTC'];
  return zones;
}
