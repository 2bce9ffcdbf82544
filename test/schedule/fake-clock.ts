// A hand-driven Clock for daemon tests: time moves only in advance(), timers run in instant order.
import type { Clock } from '../../src/schedule/clock.js';

// Let pending promise chains settle (no wall-clock waiting).
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

export class FakeClock implements Clock {
  private timers = new Map<number, { at: number; fn: () => void }>();
  private seq = 0;
  /** Every delay ever asked of setTimeout. */
  readonly delays: number[] = [];

  constructor(public t: number) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  pending(): number {
    return this.timers.size;
  }

  // Move time forward by `ms`, running due timers in order with pending promise callbacks run after each.
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      for (let i = 0; i < 20; i++) await Promise.resolve();
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!first || e[1].at < first[1].at || (e[1].at === first[1].at && e[0] < first[0]))) first = e;
      if (!first) break;
      this.timers.delete(first[0]);
      this.t = Math.max(this.t, first[1].at);
      first[1].fn();
    }
    this.t = end;
    await settle();
  }
}
