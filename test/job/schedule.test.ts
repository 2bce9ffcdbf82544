// loadJob checks schedule.cron and schedule.timezone (with YAML positions), so validate/run/next/schedule agree.
import { describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { parseJob } from '../../src/job/load.js';

const BASE = 'model: m.onnx\ninput: a.csv\nfeatures: {columns: [a]}\noutput: o.csv\n';

// The problems loadJob reports for a job with this schedule block.
function problems(schedule: string): string[] {
  try {
    parseJob(BASE + schedule, '/jobs/j.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    return err.context.problems ?? [err.describe()];
  }
}

describe('schedule checks at load time', () => {
  it('accepts valid schedules, including the string shorthand and macros', () => {
    expect(problems('schedule: "0 2 * * *"')).toEqual([]);
    expect(problems('schedule: { cron: "@daily", timezone: Asia/Seoul, missed: run-once, retries: 2, retry_delay: 30s, timeout: 2h }')).toEqual([]);
    expect(problems('schedule: { cron: "*/10 * * * * *" }')).toEqual([]);
  });

  it('reports every cron problem at schedule.cron with its line', () => {
    const p = problems('schedule:\n  cron: "99 * * * mon-funday"\n');
    expect(p).toEqual([
      expect.stringMatching(/^.*j\.yaml:6:9: invalid cron expression "99 \* \* \* mon-funday": field 1 \(minute\) value 99 is out of range 0-59 \(at schedule\.cron\)$/),
      expect.stringMatching(/field 5 \(day-of-week\) value "funday" is not a number or day name \(SUN-SAT\) \(at schedule\.cron\)$/),
    ]);
  });

  it('points at `schedule` for the shorthand', () => {
    expect(problems('schedule: "0 0 30 2 *"')).toEqual([expect.stringMatching(/j\.yaml:5:11: invalid cron expression "0 0 30 2 \*": never fires: .* \(at schedule\)$/)]);
  });

  it('suggests a time zone for a typo and says what is expected otherwise', () => {
    expect(problems('schedule: { cron: "0 2 * * *", timezone: America/New_Yrok }')).toEqual([
      expect.stringMatching(/unknown time zone "America\/New_Yrok", did you mean 'America\/New_York'\? \(at schedule\.timezone\)$/),
    ]);
    expect(problems('schedule: { cron: "0 2 * * *", timezone: Nowhere }')).toEqual([
      expect.stringMatching(/unknown time zone "Nowhere" \(give an IANA name such as Europe\/Berlin or UTC\) \(at schedule\.timezone\)$/),
    ]);
  });

  it('refuses a zero timeout', () => {
    expect(problems('schedule: { cron: "0 2 * * *", timeout: 0 }')).toEqual([expect.stringMatching(/must be longer than 0 .*\(at schedule\.timeout\)$/)]);
  });
});
