// The one planning entry point shared by `serve-batch next` and the daemon, so that `next` shows exactly the
// instants the daemon arms. Parsed cron specs are cached by their text.
import type { ScheduleConfig } from '../job/config.js';
import { parseCron, type CronSpec } from '../cron/cron.js';
import { nextFires } from '../cron/plan.js';

const specs = new Map<string, CronSpec>();

// The parsed form of a (validated) cron expression.
function specOf(cron: string): CronSpec {
  let spec = specs.get(cron);
  if (!spec) {
    spec = parseCron(cron);
    specs.set(cron, spec);
  }
  return spec;
}

// The next `count` fire instants of a job's schedule strictly after `after`.
export function upcomingFires(schedule: Pick<ScheduleConfig, 'cron' | 'timezone'>, after: Date, count: number): Date[] {
  return nextFires(specOf(schedule.cron), schedule.timezone, after, count);
}
