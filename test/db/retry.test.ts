import { describe, expect, it } from 'vitest';
import { RetriesExhausted, withRetry } from '../../src/db/retry.js';

const POLICY = { attempts: 4, firstDelayMs: 1, maxDelayMs: 2 };
const transient = (err: unknown) => (err as Error).message === 'transient';

describe('withRetry', () => {
  it('tries again after transient failures until it works', async () => {
    const tries: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        tries.push(attempt);
        if (attempt < 3) throw new Error('transient');
        return 'done';
      },
      POLICY,
      transient,
    );
    expect(result).toBe('done');
    expect(tries).toEqual([1, 2, 3]);
  });

  it("gives up after the policy's tries with the last failure, and at once on a lasting one", async () => {
    let n = 0;
    const exhausted = await withRetry(async () => {
      n++;
      throw new Error('transient');
    }, POLICY, transient).catch((e: unknown) => e);
    expect(exhausted).toBeInstanceOf(RetriesExhausted);
    expect((exhausted as RetriesExhausted).attempts).toBe(4);
    expect(n).toBe(4);
    let m = 0;
    const lasting = await withRetry(async () => {
      m++;
      throw new Error('lasting');
    }, POLICY, transient).catch((e: unknown) => e);
    expect((lasting as Error).message).toBe('lasting');
    expect(m).toBe(1);
  });

  it('stops waiting when its signal is aborted', async () => {
    const stop = new AbortController();
    let n = 0;
    const err = await withRetry(async () => {
      n++;
      stop.abort();
      throw new Error('transient');
    }, { attempts: 5, firstDelayMs: 60_000, maxDelayMs: 60_000 }, transient, stop.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExhausted);
    expect(n).toBe(1);
  });
});
