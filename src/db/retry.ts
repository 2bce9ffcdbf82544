// Trying again after a transient failure (a server restarting, a failover, a connection reset), a bounded
// number of times with growing waits, so a short outage costs a delay instead of a failed run.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Tries in all (1: no retry). */
  attempts: number;
  /** Wait before the second try; each later wait doubles, up to maxDelayMs. */
  firstDelayMs: number;
  maxDelayMs: number;
}

/** 6 tries over about 15 s: longer than a PostgreSQL restart or a managed database's failover usually takes. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, firstDelayMs: 500, maxDelayMs: 8000 };

/** The failure of the last try, with how long trying took. */
export class RetriesExhausted extends Error {
  constructor(
    readonly last: unknown,
    readonly attempts: number,
    readonly elapsedMs: number,
  ) {
    super(last instanceof Error ? last.message : String(last));
    this.name = 'RetriesExhausted';
  }
}

// Run `work` until it succeeds, fails with a lasting error (thrown as it is), or has failed transiently
// `attempts` times (thrown as RetriesExhausted). An aborted signal ends a wait with the last error.
export async function withRetry<T>(work: (attempt: number) => Promise<T>, policy: RetryPolicy, transient: (err: unknown) => boolean, signal?: AbortSignal): Promise<T> {
  const start = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (err) {
      if (!transient(err)) throw err;
      if (attempt >= policy.attempts || signal?.aborted) throw new RetriesExhausted(err, attempt, Date.now() - start);
      const delay = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (attempt - 1));
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        throw new RetriesExhausted(err, attempt, Date.now() - start);
      }
    }
  }
}
