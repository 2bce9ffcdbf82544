// Retry planning for a scheduled run (schedule.retries, schedule.retry_delay), as a pure function.
import type { ScheduleConfig } from '../job/config.js';
import type { RunStatus } from '../run/record.js';

export type RetryPlan = { retry: true; attempt: number; at: Date } | { retry: false; reason: string };

// Whether attempt `attempt` (1 = the fire itself) that ended at `endedAt` with `status` is retried, and when.
// Only failed runs are retried (exit 1: a data or model error, a crash, a timeout): an invalid job (exit 2)
// fails the same way again, a skipped run means another run is doing the work, an interrupted one means we are
// stopping. A retry that would start at or after the next scheduled fire is dropped: that fire runs instead.
export function planRetry(
  schedule: Pick<ScheduleConfig, 'retries' | 'retryDelayMs'>,
  status: RunStatus,
  attempt: number,
  endedAt: Date,
  nextFire: Date | undefined,
): RetryPlan {
  if (status !== 'failed') return { retry: false, reason: status === 'ok' ? 'the run succeeded' : `${status} runs are not retried` };
  if (schedule.retries === 0) return { retry: false, reason: 'the job has no retries' };
  if (attempt > schedule.retries) return { retry: false, reason: `all ${schedule.retries} ${schedule.retries === 1 ? 'retry' : 'retries'} used` };
  const at = new Date(endedAt.getTime() + schedule.retryDelayMs);
  if (nextFire && at.getTime() >= nextFire.getTime()) return { retry: false, reason: `the next scheduled fire (${nextFire.toISOString()}) comes before the retry would` };
  return { retry: true, attempt: attempt + 1, at };
}
