import { describe, expect, it } from 'vitest';
import { LATE_TOLERANCE_MS, MISSED_COUNT_LIMIT, planBeat } from '../../src/schedule/beat.js';

const at = (s: string) => new Date(s);
const daily2 = { cron: '0 2 * * *', timezone: 'UTC' };

describe('planBeat', () => {
  it('on time: the fire is due and the next one is armed', () => {
    expect(planBeat(daily2, at('2026-11-24T01:00:00Z'), at('2026-11-24T02:00:00.004Z'))).toEqual({
      due: at('2026-11-24T02:00:00Z'),
      next: at('2026-11-25T02:00:00Z'),
    });
  });

  it('nothing due: only the next fire', () => {
    expect(planBeat(daily2, at('2026-11-24T02:00:00Z'), at('2026-11-24T12:00:00Z'))).toEqual({ next: at('2026-11-25T02:00:00Z') });
  });

  it('a little late (within the tolerance) still runs as scheduled', () => {
    const now = new Date(at('2026-11-24T02:00:00Z').getTime() + LATE_TOLERANCE_MS);
    expect(planBeat(daily2, at('2026-11-24T01:00:00Z'), now).due).toEqual(at('2026-11-24T02:00:00Z'));
  });

  it('scheduler down across two fires: both missed, none due', () => {
    expect(planBeat(daily2, at('2026-11-23T12:00:00Z'), at('2026-11-25T09:00:00Z'))).toEqual({
      missed: { count: 2, more: false, first: at('2026-11-24T02:00:00Z'), last: at('2026-11-25T02:00:00Z') },
      next: at('2026-11-26T02:00:00Z'),
    });
  });

  it('a restart across a fire that is now due: earlier fires missed, the due one runs', () => {
    const b = planBeat({ cron: '*/10 * * * *', timezone: 'UTC' }, at('2026-11-24T00:05:00Z'), at('2026-11-24T00:30:20Z'));
    expect(b).toEqual({
      due: at('2026-11-24T00:30:00Z'),
      missed: { count: 2, more: false, first: at('2026-11-24T00:10:00Z'), last: at('2026-11-24T00:20:00Z') },
      next: at('2026-11-24T00:40:00Z'),
    });
  });

  it('counts at most MISSED_COUNT_LIMIT missed fires and still finds the due one', () => {
    const b = planBeat({ cron: '* * * * * *', timezone: 'UTC' }, at('2026-11-24T00:00:00Z'), at('2026-11-25T00:00:00.500Z'));
    expect(b.missed).toEqual({ count: MISSED_COUNT_LIMIT, more: true, first: at('2026-11-24T00:00:01Z') });
    expect(b.due).toEqual(at('2026-11-25T00:00:00Z'));
    expect(b.next).toEqual(at('2026-11-25T00:00:01Z'));
  });

  it('after the clock went back, fires up to `since` are not run again', () => {
    expect(planBeat(daily2, at('2026-11-24T02:00:00Z'), at('2026-11-24T01:00:00Z'))).toEqual({ next: at('2026-11-25T02:00:00Z') });
  });

  it('follows the planner across DST: the New York spring-forward gap fire is due at 03:00 EDT', () => {
    const ny = { cron: '45 2 * * *', timezone: 'America/New_York' };
    expect(planBeat(ny, at('2025-03-08T07:45:00Z'), at('2025-03-09T07:00:00.010Z'))).toEqual({
      due: at('2025-03-09T07:00:00Z'),
      next: at('2025-03-10T06:45:00Z'),
    });
  });
});
