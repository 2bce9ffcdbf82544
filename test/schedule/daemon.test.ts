// The daemon's decisions, driven by a fake clock and a fake runner: no processes, no sleeps.
import { describe, expect, it } from 'vitest';
import type { JobConfig } from '../../src/job/config.js';
import { parseJob } from '../../src/job/load.js';
import type { RunRecord, RunStatus } from '../../src/run/record.js';
import { Daemon, type DaemonEvent, type FireRunner, type RunHandle } from '../../src/schedule/daemon.js';
import { schedulerRecord } from '../../src/schedule/records.js';
import type { ScheduleState, StateStore } from '../../src/schedule/state.js';
import { describeEvent } from '../../src/cli/schedule-log.js';
import { webhookServer } from '../notify/webhook-server.js';
import { FakeClock, settle } from './fake-clock.js';

const T0 = Date.parse('2026-11-24T00:00:00.000Z');

// A job named `name` with the given schedule block.
function job(name: string, schedule: string): JobConfig {
  return parseJob(`name: ${name}\nmodel: m.onnx\ninput: in/*.csv\nfeatures: {columns: [a]}\noutput: out.csv\n${schedule}\n`, `/jobs/${name}.yaml`);
}

interface FakeRun {
  job: string;
  fire: { scheduled_for: string; attempt: number; reason: string };
  finish(status: RunStatus): void;
  stopped: boolean;
  killed: boolean;
}

// A runner whose runs end when the test says so.
function fakeRunner(clock: FakeClock, auto?: RunStatus): FireRunner & { runs: FakeRun[] } {
  const runs: FakeRun[] = [];
  return {
    runs,
    start(j, run) {
      let resolve!: (r: RunRecord) => void;
      const done = new Promise<RunRecord>((r) => (resolve = r));
      const started = new Date(clock.now());
      const fr: FakeRun = {
        job: j.name,
        fire: run.fire,
        stopped: false,
        killed: false,
        finish(status) {
          const code = { ok: 0, failed: 1, invalid: 2, skipped: 3, interrupted: 143, 'dry-run': 0 }[status];
          resolve(schedulerRecord(j, { runId: run.runId, fire: run.fire, started, ended: new Date(clock.now()), status, exitCode: code, error: status === 'ok' ? '' : status }));
        },
      };
      runs.push(fr);
      if (auto) queueMicrotask(() => fr.finish(auto));
      const handle: RunHandle = {
        pid: 1000 + runs.length,
        done,
        stop: () => {
          fr.stopped = true;
        },
        kill: () => {
          fr.killed = true;
          fr.finish('interrupted');
        },
      };
      return handle;
    },
  };
}

// An in-memory state store.
function memoryState(initial: Record<string, string> = {}): StateStore & { saved: Map<string, ScheduleState> } {
  const saved = new Map<string, ScheduleState>(Object.entries(initial).map(([k, v]) => [k, { handledUntil: new Date(v) }]));
  return {
    saved,
    read: async (j) => saved.get(j.name),
    write: async (j, s) => {
      saved.set(j.name, s);
    },
  };
}

// A daemon with fakes around it, and the events it emitted.
function setup(o: { state?: Record<string, string>; now?: number; auto?: RunStatus } = {}) {
  const clock = new FakeClock(o.now ?? T0);
  const runner = fakeRunner(clock, o.auto);
  const events: DaemonEvent[] = [];
  const state = memoryState(o.state);
  const saved: RunRecord[] = [];
  const daemon = new Daemon({ runner, clock, state, emit: (e) => events.push(e), save: async (_j, r) => void saved.push(r) });
  const names = () => events.map((e) => e.event);
  return { clock, runner, events, state, saved, daemon, names };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('Daemon: firing', () => {
  it('fires at the planned instants, one run each, and saves how far it got', async () => {
    const t = setup({ auto: 'ok' });
    await t.daemon.start([job('a', 'schedule: "*/10 * * * * *"'), job('adhoc', '')]);
    expect(t.names()).toEqual(['loaded', 'on_demand']);
    expect(t.events[0]).toMatchObject({ event: 'loaded', next: new Date(T0 + 10_000) });
    await t.clock.advance(9_999);
    expect(t.runner.runs).toHaveLength(0);
    await t.clock.advance(1);
    expect(t.runner.runs.map((r) => r.fire)).toEqual([{ scheduled_for: iso(T0 + 10_000), attempt: 1, reason: 'schedule' }]);
    await t.clock.advance(20_000);
    expect(t.runner.runs.map((r) => r.fire.scheduled_for)).toEqual([iso(T0 + 10_000), iso(T0 + 20_000), iso(T0 + 30_000)]);
    expect(t.names().slice(2, 6)).toEqual(['fired', 'started', 'finished', 'fired']);
    expect(t.state.saved.get('a')).toEqual({ handledUntil: new Date(T0 + 30_000), lastFire: new Date(T0 + 30_000) });
  });

  it('follows the planner in the job time zone across DST (the New York gap fire at 03:00 EDT)', async () => {
    const t = setup({ now: Date.parse('2025-03-08T12:00:00Z'), auto: 'ok' });
    await t.daemon.start([job('ny', 'schedule: { cron: "45 2 * * *", timezone: America/New_York }')]);
    await t.clock.advance(3 * 86_400_000);
    expect(t.runner.runs.map((r) => r.fire.scheduled_for)).toEqual(['2025-03-09T07:00:00.000Z', '2025-03-10T06:45:00.000Z', '2025-03-11T06:45:00.000Z']);
  });

  it('a fire while the previous run is still going is skipped with a record (exit 3)', async () => {
    const t = setup();
    await t.daemon.start([job('slow', 'schedule: "* * * * * *"')]);
    await t.clock.advance(2_000);
    expect(t.runner.runs).toHaveLength(1);
    const skipped = t.events.find((e) => e.event === 'skipped');
    expect(skipped).toMatchObject({ reason: 'busy', record: { status: 'skipped', exit_code: 3, trigger: 'schedule' } });
    expect(t.saved.map((r) => [r.status, r.error])).toEqual([['skipped', expect.stringMatching(/^job slow is already running \(run .*, pid 1001, started by this scheduler\); this fire was skipped$/)]]);
    t.runner.runs[0].finish('ok');
    await t.clock.advance(1_000);
    expect(t.runner.runs).toHaveLength(2);
  });

  it('a run skipped because another process holds the lock is logged as skipped, not retried', async () => {
    const t = setup();
    await t.daemon.start([job('x', 'schedule: { cron: "0 * * * *", retries: 3, retry_delay: 1s }')]);
    await t.clock.advance(3_600_000);
    t.runner.runs[0].finish('skipped');
    await t.clock.advance(10_000);
    expect(t.events.find((e) => e.event === 'skipped')).toMatchObject({ reason: 'locked' });
    expect(t.runner.runs).toHaveLength(1);
  });
});

describe('Daemon: retries', () => {
  it('retries a failed run after retry_delay, then gives up after `retries`', async () => {
    const t = setup();
    await t.daemon.start([job('r', 'schedule: { cron: "0 * * * *", retries: 2, retry_delay: 5m }')]);
    await t.clock.advance(3_600_000);
    t.runner.runs[0].finish('failed');
    await t.clock.advance(0);
    expect(t.events.find((e) => e.event === 'retry')).toMatchObject({ attempt: 2, attempts: 3, at: new Date(T0 + 3_600_000 + 300_000) });
    await t.clock.advance(300_000);
    expect(t.runner.runs[1].fire).toEqual({ scheduled_for: iso(T0 + 3_600_000), attempt: 2, reason: 'retry' });
    t.runner.runs[1].finish('failed');
    await t.clock.advance(300_000);
    expect(t.runner.runs[2].fire).toMatchObject({ attempt: 3, reason: 'retry' });
    t.runner.runs[2].finish('failed');
    await t.clock.advance(1_000_000);
    expect(t.runner.runs).toHaveLength(3);
    expect(t.names().filter((n) => n === 'failed')).toHaveLength(3);
  });

  it('drops a retry that would come after the next fire', async () => {
    const t = setup();
    await t.daemon.start([job('r', 'schedule: { cron: "*/10 * * * * *", retries: 1, retry_delay: 15s }')]);
    await t.clock.advance(10_000);
    t.runner.runs[0].finish('failed');
    await t.clock.advance(10_000);
    expect(t.names()).not.toContain('retry');
    expect(t.runner.runs.map((r) => r.fire.reason)).toEqual(['schedule', 'schedule']);
  });
});

describe('Daemon: missed fires', () => {
  const hourly = (missed: string) => job('h', `schedule: { cron: "0 * * * *", missed: ${missed} }`);
  const T1 = T0 + 1_800_000; // 00:30
  const down = { state: { h: '2026-11-23T22:30:00.000Z' }, now: T1 }; // fires at 23:00 and 00:00 missed

  it('missed: run-once runs once at start, for the latest missed fire', async () => {
    const t = setup(down);
    await t.daemon.start([hourly('run-once')]);
    expect(t.events.find((e) => e.event === 'missed')).toMatchObject({
      missed: { count: 2, first: new Date('2026-11-23T23:00:00Z'), last: new Date(T0) },
      atStart: true,
      action: 'run-once',
    });
    expect(t.runner.runs.map((r) => r.fire)).toEqual([{ scheduled_for: iso(T0), attempt: 1, reason: 'missed' }]);
  });

  it('missed: skip logs the missed fires and runs nothing until the next one', async () => {
    const t = setup(down);
    await t.daemon.start([hourly('skip')]);
    expect(t.events.find((e) => e.event === 'missed')).toMatchObject({ action: 'skip' });
    expect(t.runner.runs).toHaveLength(0);
    expect(t.state.saved.get('h')?.handledUntil).toEqual(new Date(T1));
    await t.clock.advance(1_800_000);
    expect(t.runner.runs.map((r) => r.fire.reason)).toEqual(['schedule']);
  });

  it('a first start (no state) misses nothing', async () => {
    const t = setup();
    await t.daemon.start([hourly('run-once')]);
    expect(t.names()).toEqual(['loaded']);
    expect(t.state.saved.get('h')?.handledUntil).toEqual(new Date(T0));
  });

  it('an unreadable state is reported and the job starts as if new', async () => {
    const t = setup({ now: T1 });
    t.state.read = async () => {
      throw new Error('the schedule state /s/h.json is not valid; it is ignored and rewritten');
    };
    await t.daemon.start([hourly('run-once')]);
    expect(t.names()).toEqual(['warning', 'loaded']);
    expect(t.runner.runs).toHaveLength(0);
    expect(t.state.saved.get('h')?.handledUntil).toEqual(new Date(T1));
  });

  it('a restart a few seconds after a fire still runs it as scheduled', async () => {
    const t = setup({ state: { h: '2026-11-23T23:59:50.000Z' }, now: T0 + 5_000 });
    await t.daemon.start([hourly('skip')]);
    expect(t.names()).toEqual(['loaded', 'fired', 'started']);
    expect(t.runner.runs[0].fire).toEqual({ scheduled_for: iso(T0), attempt: 1, reason: 'schedule' });
  });
});

describe('Daemon: stopping', () => {
  it('fires nothing after stop, waits for running runs within the grace period, then reports stopped', async () => {
    const t = setup();
    await t.daemon.start([job('a', 'schedule: "* * * * * *"')]);
    await t.clock.advance(1_000);
    const stopped = t.daemon.stop(30_000, 10_000);
    await t.clock.advance(5_000);
    expect(t.runner.runs).toHaveLength(1);
    expect(t.names()).not.toContain('stopped');
    t.runner.runs[0].finish('ok');
    await stopped;
    expect(t.names().slice(-3)).toEqual(['stopping', 'finished', 'stopped']);
    expect(t.runner.runs[0].stopped).toBe(false);
    expect(t.clock.pending()).toBe(0);
  });

  it('after the grace period stops runs cleanly, and kills what is still there after killAfter', async () => {
    const t = setup();
    await t.daemon.start([job('a', 'schedule: "* * * * * *"')]);
    await t.clock.advance(1_000);
    const stopped = t.daemon.stop(30_000, 10_000);
    await t.clock.advance(30_000);
    expect(t.runner.runs[0].stopped).toBe(true);
    expect(t.names()).toContain('terminating');
    await t.clock.advance(10_000);
    expect(t.runner.runs[0].killed).toBe(true);
    await stopped;
    expect(t.names().slice(-4)).toEqual(['terminating', 'killing', 'interrupted', 'stopped']);
  });

  it('a second signal cuts the grace period short', async () => {
    const t = setup();
    await t.daemon.start([job('a', 'schedule: "* * * * * *"')]);
    await t.clock.advance(1_000);
    void t.daemon.stop(30_000, 10_000);
    await t.clock.advance(1_000);
    void t.daemon.stop(30_000, 10_000);
    await settle();
    expect(t.runner.runs[0].stopped).toBe(true);
  });

  it('with nothing running, stops at once', async () => {
    const t = setup();
    await t.daemon.start([job('a', 'schedule: "0 2 * * *"')]);
    await t.daemon.stop(30_000, 10_000);
    expect(t.names()).toEqual(['loaded', 'stopping', 'stopped']);
    expect(t.clock.pending()).toBe(0);
  });
});

describe('Daemon: reload', () => {
  const at = (t: ReturnType<typeof setup>) => t.runner.runs.map((r) => `${r.job}@${(Date.parse(r.fire.scheduled_for) - T0) / 1000}`).sort();

  it('adds, changes and removes jobs; a change or an addition misses nothing', async () => {
    const t = setup({ auto: 'ok' });
    await t.daemon.start([job('keep', 'schedule: "0 * * * *"'), job('gone', 'schedule: "*/10 * * * * *"'), job('change', 'schedule: "0 * * * *"')]);
    await t.clock.advance(10_000);
    const diff = await t.daemon.update([job('keep', 'schedule: "0 * * * *"'), job('change', 'schedule: "*/30 * * * * *"'), job('new', 'schedule: "*/20 * * * * *"')]);
    expect(diff).toEqual({ added: ['new'], changed: ['change'], removed: ['gone'], unchanged: ['keep'] });
    expect(t.names()).not.toContain('missed');
    await t.clock.advance(50_000);
    expect(at(t)).toEqual(['change@30', 'change@60', 'gone@10', 'new@20', 'new@40', 'new@60']);
  });

  it('a running run of a removed job finishes and is logged; its job does not fire again', async () => {
    const t = setup();
    await t.daemon.start([job('gone', 'schedule: "*/10 * * * * *"')]);
    await t.clock.advance(10_000);
    await t.daemon.update([]);
    expect(t.daemon.running()).toEqual(['gone']);
    t.runner.runs[0].finish('ok');
    await t.clock.advance(60_000);
    expect(t.runner.runs).toHaveLength(1);
    expect(t.names().slice(-2)).toEqual(['reloaded', 'finished']);
  });

  it('a job that lost its schedule becomes on demand', async () => {
    const t = setup();
    await t.daemon.start([job('a', 'schedule: "*/10 * * * * *"')]);
    await t.daemon.update([job('a', '')]);
    await t.clock.advance(60_000);
    expect(t.runner.runs).toHaveLength(0);
    expect(t.names()).toEqual(['loaded', 'reloaded', 'on_demand']);
  });
});

describe('Daemon: notices', () => {
  // Wait (in real time: the notices go to a real server) until `pred` holds.
  async function until(pred: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(pred()).toBe(true);
  }
  const notified = (t: ReturnType<typeof setup>) => t.events.filter((e): e is Extract<DaemonEvent, { event: 'notified' }> => e.event === 'notified');

  it('a failed attempt that will be retried sends nothing; the last attempt sends one notice, logged', async () => {
    const s = await webhookServer();
    try {
      const t = setup();
      await t.daemon.start([job('r', `schedule: { cron: "0 * * * *", retries: 1, retry_delay: 5m }\nnotify:\n  - { on: [failed], webhook: "${s.url}/services/SECRET" }`)]);
      await t.clock.advance(3_600_000);
      t.runner.runs[0].finish('failed');
      await t.clock.advance(300_000);
      expect(t.runner.runs[1].fire).toMatchObject({ attempt: 2, reason: 'retry' });
      expect(s.received).toHaveLength(0);
      t.runner.runs[1].finish('failed');
      await until(() => notified(t).length === 1);
      expect(s.received).toHaveLength(1);
      expect(JSON.parse(s.received[0].body)).toMatchObject({ event: 'failed', job: 'r', schedule: { attempt: 2, reason: 'retry' } });
      const [n] = notified(t);
      expect(n).toMatchObject({ job: 'r', outcome: { ok: true, event: 'failed', attempts: 1 } });
      const line = describeEvent(n);
      expect(line).toMatchObject({ level: 'info', event: 'notified', fields: { job: 'r', notify_event: 'failed', webhook: `http://127.0.0.1:${new URL(s.url).port}/services/***` } });
      expect(JSON.stringify(line)).not.toContain('SECRET');
    } finally {
      await s.close();
    }
  });

  it('a fire skipped because the job is busy sends its skipped notice after its record is saved', async () => {
    const s = await webhookServer();
    try {
      const t = setup();
      await t.daemon.start([job('slow', `schedule: "* * * * * *"\nnotify:\n  - { on: [skipped], webhook: "${s.url}/x" }`)]);
      await t.clock.advance(2_000);
      await until(() => notified(t).length === 1);
      expect(t.saved.map((r) => r.status)).toEqual(['skipped']);
      expect(JSON.parse(s.received[0].body)).toMatchObject({ event: 'skipped', status: 'skipped', exit_code: 3 });
      t.runner.runs[0].finish('ok');
      await t.daemon.stop(0, 0);
    } finally {
      await s.close();
    }
  });

  it('a stop waits for notices in flight before it says stopped; a webhook that fails is a warning, not a failure', async () => {
    const s = await webhookServer(() => ({ status: 500, delayMs: 100 }));
    try {
      const t = setup({ auto: 'ok' });
      await t.daemon.start([job('a', `schedule: "*/10 * * * * *"\nnotify:\n  - { on: ok, webhook: "${s.url}/x", retries: 1 }`)]);
      await t.clock.advance(10_000);
      await t.daemon.stop(1000, 1000);
      expect(t.names().slice(-3)).toEqual(['stopping', 'notified', 'stopped']);
      const [n] = notified(t);
      expect(n.outcome).toMatchObject({ ok: false, attempts: 2, status: 500 });
      expect(describeEvent(n)).toMatchObject({ level: 'warn', event: 'notify_failed' });
    } finally {
      await s.close();
    }
  });
});
