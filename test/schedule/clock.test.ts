import { describe, expect, it } from 'vitest';
import { armAt, armWithNodeCron, MAX_TIMER_MS, RECHECK_MS } from '../../src/schedule/clock.js';
import { FakeClock } from './fake-clock.js';

describe('armAt', () => {
  it('waits in steps of at most a minute, so delays past 2^31-1 ms work and a clock step is noticed', async () => {
    const clock = new FakeClock(0);
    const at = 40 * 86_400_000; // 40 days: more than setTimeout's 2^31-1 ms
    let fired = 0;
    armAt(clock, at, () => fired++);
    expect(Math.max(...clock.delays)).toBeLessThanOrEqual(Math.min(RECHECK_MS, MAX_TIMER_MS));
    await clock.advance(at - 1);
    expect(fired).toBe(0);
    await clock.advance(1);
    expect(fired).toBe(1);
    await clock.advance(10 * RECHECK_MS);
    expect(fired).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('notices a wall-clock jump forward within one step', async () => {
    const clock = new FakeClock(0);
    let fired = 0;
    armAt(clock, 3_600_000, () => fired++);
    clock.t = 3_600_000; // the host slept for an hour; monotonic timers did not move
    await clock.advance(RECHECK_MS);
    expect(fired).toBe(1);
  });

  it('never calls back synchronously, and cancel stops it', async () => {
    const clock = new FakeClock(100);
    let fired = 0;
    armAt(clock, 50, () => fired++);
    expect(fired).toBe(0);
    await clock.advance(0);
    expect(fired).toBe(1);
    const cancel = armAt(clock, 1000, () => fired++);
    cancel();
    await clock.advance(5000);
    expect(fired).toBe(1);
  });
});

// The system clock arms planned fires as one-shot node-cron tasks (real time, a few seconds). What is checked
// is order, not how late a fire comes on a busy machine: a fire never runs before its instant, and a cancelled
// fire has not run by the time a fire planned a second after it has.
describe('armWithNodeCron', () => {
  it('fires once, not before the planned UTC second, and a cancelled fire never runs', async () => {
    // More than 2 s ahead, so node-cron arms it (nearer instants go to armAt).
    const at = Math.ceil((Date.now() + 2500) / 1000) * 1000;
    const events: string[] = [];
    let firedAt = 0;
    armWithNodeCron(at, () => {
      firedAt = Date.now();
      events.push('planned');
    });
    const cancel = armWithNodeCron(at, () => events.push('cancelled'));
    cancel();
    await new Promise<void>((resolve) =>
      armWithNodeCron(at + 1000, () => {
        events.push('a second later');
        resolve();
      }),
    );
    expect(events).toEqual(['planned', 'a second later']);
    expect(firedAt).toBeGreaterThanOrEqual(at);
  });
});
