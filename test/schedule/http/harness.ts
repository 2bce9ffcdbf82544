// A status server in this process around a real Daemon driven by a fake clock and a fake runner whose runs
// write real run records (saveRecord) into a temporary state_dir, as the child processes do.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { JobConfig } from '../../../src/job/config.js';
import { parseJob } from '../../../src/job/load.js';
import type { RunRecord, RunStatus } from '../../../src/run/record.js';
import { saveRecord } from '../../../src/run/save.js';
import { Daemon, type DaemonEvent, type FireRunner } from '../../../src/schedule/daemon.js';
import { schedulerRecord } from '../../../src/schedule/records.js';
import type { StateStore } from '../../../src/schedule/state.js';
import { SchedulerMetrics } from '../../../src/schedule/http/prometheus.js';
import { startStatusServer, type Limits, type StatusServer } from '../../../src/schedule/http/server.js';
import { SchedulerStatus } from '../../../src/schedule/http/status.js';
import { tempDir } from '../../support/temp-dir.js';
import { FakeClock } from '../fake-clock.js';

export const T0 = Date.parse('2026-11-24T00:00:00.000Z');

export interface Finish {
  status: RunStatus;
  error?: string;
  rows?: [number, number, number];
  /** Extra top-level record fields (a `monitor` section). */
  extra?: Record<string, unknown>;
}

export interface FakeRun {
  job: string;
  runId: string;
  reason: string;
  finish(f: Finish): Promise<RunRecord>;
}

// A job in `dir`/jobs with its state in `dir`/state.
export function job(dir: string, name: string, schedule: string): JobConfig {
  return parseJob(`name: ${name}\nmodel: m.onnx\ninput: in/*.csv\nfeatures: {columns: [a]}\noutput: out.csv\nstate_dir: ../state\n${schedule}\n`, path.join(dir, 'jobs', `${name}.yaml`));
}

// A runner whose runs end when the test says, each writing its record like a run's process does.
function recordingRunner(clock: FakeClock): FireRunner & { runs: FakeRun[] } {
  const runs: FakeRun[] = [];
  return {
    runs,
    start(j, run) {
      let resolve!: (r: RunRecord) => void;
      const done = new Promise<RunRecord>((r) => (resolve = r));
      const started = new Date(clock.now());
      runs.push({
        job: j.name,
        runId: run.runId,
        reason: run.fire.reason,
        async finish(f) {
          const code = { ok: 0, failed: 1, invalid: 2, skipped: 3, interrupted: 143, 'dry-run': 0 }[f.status];
          const [rowsIn, rowsOut, rejected] = f.rows ?? [0, 0, 0];
          const inputs = rowsIn === 0 ? [] : [{ path: '/data/in.csv', bytes: 10, sha256: null, rows_in: rowsIn, rows_out: rowsOut, rows_rejected: rejected, output: null, rejects: null, status: 'ok' as const, error: null, duration_ms: 5 }];
          const r = schedulerRecord(j, { runId: run.runId, fire: run.fire, started, ended: new Date(clock.now()), status: f.status, exitCode: code, error: f.error ?? '', inputs });
          if (f.status === 'ok') r.error = null;
          Object.assign(r, f.extra);
          await saveRecord(j, r);
          resolve(r);
          return r;
        },
      });
      return { pid: 4000 + runs.length, done, stop: () => undefined, kill: () => undefined };
    },
  };
}

const memoryState = (): StateStore => {
  const saved = new Map();
  return { read: async (j) => saved.get(j.name), write: async (j, s) => void saved.set(j.name, s) };
};

export interface Harness {
  dir: string;
  clock: FakeClock;
  daemon: Daemon;
  runner: FireRunner & { runs: FakeRun[] };
  status: SchedulerStatus;
  metrics: SchedulerMetrics;
  server: StatusServer;
  events: DaemonEvent[];
  logs: { level: string; event: string; message: string }[];
  get(p: string, init?: RequestInit): Promise<Response>;
  /** Load the jobs and attach the daemon (the server answers "loading" until then). */
  load(jobs: JobConfig[]): Promise<void>;
  close(): Promise<void>;
}

// A server listening on 127.0.0.1 (a free port) in front of a daemon that has not loaded its jobs yet.
export async function harness(o: { token?: string; limits?: Partial<Limits> } = {}): Promise<Harness> {
  const dir = tempDir('sb-http-');
  mkdirSync(path.join(dir, 'jobs'));
  const clock = new FakeClock(T0);
  const runner = recordingRunner(clock);
  const events: DaemonEvent[] = [];
  const logs: Harness['logs'] = [];
  const status = new SchedulerStatus(clock);
  const metrics = new SchedulerMetrics();
  const daemon = new Daemon({
    runner,
    clock,
    state: memoryState(),
    emit: (e) => {
      metrics.observe(e);
      events.push(e);
    },
  });
  const server = await startStatusServer({
    listen: { host: '127.0.0.1', port: 0, loopback: true, source: '--http' },
    status,
    metrics,
    token: o.token,
    limits: o.limits,
    log: (level, event, message) => logs.push({ level, event, message }),
  });
  return {
    dir,
    clock,
    daemon,
    runner,
    status,
    metrics,
    server,
    events,
    logs,
    get: (p, init) => fetch(`${server.url}${p}`, init),
    async load(jobs) {
      await daemon.start(jobs);
      status.attach(daemon);
    },
    async close() {
      // Runs the test left going stay pending on the fake clock; the daemon only has to fire nothing more.
      void daemon.stop(0, 0);
      await server.close();
    },
  };
}
