import { describe, expect, it } from 'vitest';
import { planRetry } from '../../src/schedule/retry.js';

const ended = new Date('2026-11-24T02:10:00Z');
const next = new Date('2026-11-25T02:00:00Z');
const twice = { retries: 2, retryDelayMs: 60_000 };

describe('planRetry', () => {
  it('retries a failed run after retry_delay, attempt by attempt', () => {
    expect(planRetry(twice, 'failed', 1, ended, next)).toEqual({ retry: true, attempt: 2, at: new Date('2026-11-24T02:11:00Z') });
    expect(planRetry(twice, 'failed', 2, ended, next)).toEqual({ retry: true, attempt: 3, at: new Date('2026-11-24T02:11:00Z') });
    expect(planRetry(twice, 'failed', 3, ended, next)).toEqual({ retry: false, reason: 'all 2 retries used' });
  });

  it('does not retry successes, invalid, skipped or interrupted runs', () => {
    expect(planRetry(twice, 'ok', 1, ended, next)).toEqual({ retry: false, reason: 'the run succeeded' });
    for (const s of ['invalid', 'skipped', 'interrupted'] as const) {
      expect(planRetry(twice, s, 1, ended, next)).toEqual({ retry: false, reason: `${s} runs are not retried` });
    }
  });

  it('without retries configured', () => {
    expect(planRetry({ retries: 0, retryDelayMs: 60_000 }, 'failed', 1, ended, next)).toEqual({ retry: false, reason: 'the job has no retries' });
  });

  it('drops a retry that would not start before the next scheduled fire', () => {
    const soon = new Date('2026-11-24T02:11:00Z');
    expect(planRetry(twice, 'failed', 1, ended, soon)).toEqual({ retry: false, reason: 'the next scheduled fire (2026-11-24T02:11:00.000Z) comes before the retry would' });
    expect(planRetry(twice, 'failed', 1, ended, new Date(soon.getTime() + 1))).toMatchObject({ retry: true });
  });
});
