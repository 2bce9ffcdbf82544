// Runs each scheduled fire in its own child process (child.js from the build, started with process.execPath)
// and watches how it ends. The child runs runJob and writes its own run record; when it cannot — it crashed,
// was killed, or exceeded schedule.timeout — this side writes the record (status failed, naming the signal or
// the timeout), with the inputs the child reported as finished, and updates the metrics file.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { JobConfig } from '../job/config.js';
import { messageOf } from '../errors.js';
import type { InputRecord, RunRecord } from '../run/record.js';
import { saveRecord } from '../run/save.js';
import { formatDuration } from '../util/duration.js';
import type { ChildReply, ChildRequest } from './child.js';
import type { FireRunner, RunHandle, RunnerEvent } from './daemon.js';
import { schedulerRecord } from './records.js';

const CHILD_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.js');

export interface ChildRunnerOptions {
  /** After a timeout's SIGTERM, SIGKILL the run if it is still there after this long. */
  killAfterMs: number;
  childPath?: string;
  save?: (job: JobConfig, record: RunRecord) => Promise<void>;
}

/** Lines of the child's stderr kept to explain a crash. */
const TAIL_LINES = 5;

// Keep the last TAIL_LINES lines.
function keep(tail: string[], line: string): void {
  tail.push(line);
  if (tail.length > TAIL_LINES) tail.shift();
}

// Start the child process for one request, relaying its output lines.
function spawnChild(childPath: string, onLine: (stream: 'stdout' | 'stderr', line: string) => void): ChildProcess {
  // Node flags (e.g. --max-old-space-size) carry over, except the inspector, whose port the scheduler holds.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--inspect'));
  const child = fork(childPath, [], { execPath: process.execPath, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream]!, crlfDelay: Infinity }).on('line', (line) => {
      if (line.trim() !== '') onLine(stream, line);
    });
  }
  return child;
}

// How a child that sent no record ended, for its run record.
function describeExit(code: number | null, signal: NodeJS.Signals | null, spawnError: Error | undefined, tail: string[]): string {
  const how = spawnError ? `could not be started: ${spawnError.message}` : signal ? `was killed by signal ${signal}` : `exited with code ${code}`;
  const last = tail.length > 0 ? `; its last output: ${tail[tail.length - 1]}` : '';
  return `the run's process ${how} before it could finish${last}`;
}

// A FireRunner that isolates every run in a child process.
export function childRunner(o: ChildRunnerOptions): FireRunner {
  const save = o.save ?? saveRecord;
  return {
    start(job, run, onEvent: (e: RunnerEvent) => void): RunHandle {
      const started = new Date();
      const inputs: InputRecord[] = [];
      const tail: string[] = [];
      let record: RunRecord | undefined;
      let timedOut = false;
      let stoppedBy: 'stop' | 'kill' | undefined;
      let spawnError: Error | undefined;
      const timers: NodeJS.Timeout[] = [];
      const child = spawnChild(o.childPath ?? CHILD_PATH, (stream, line) => {
        if (stream === 'stderr') keep(tail, line);
        onEvent({ type: 'output', stream, line });
      });
      child.on('message', (m: ChildReply) => {
        if (m.type === 'record') record = m.record;
        else if (m.type === 'event') {
          if (m.event.type === 'input_finished') inputs.push(m.event.input);
          onEvent({ type: 'run', event: m.event });
        }
      });
      // A failed send means the child is already gone; its exit (below) says how.
      const request: ChildRequest = { type: 'run', job, runId: run.runId, fire: run.fire };
      child.send(request, () => undefined);
      const timeoutMs = job.schedule?.timeoutMs;
      if (timeoutMs !== undefined) {
        timers.push(
          setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            timers.push(setTimeout(() => child.kill('SIGKILL'), o.killAfterMs));
          }, timeoutMs),
        );
      }
      // The record of a run the child could not finish on its own (null: the child's record stands).
      const ownRecord = (code: number | null, signal: NodeJS.Signals | null): RunRecord | null => {
        const base = { runId: run.runId, fire: run.fire, started, ended: new Date(), inputs };
        // A run the timeout's SIGTERM came too late to stop finished on its own: its record stands.
        if (timedOut && (!record || record.status === 'interrupted')) {
          const r = record ?? schedulerRecord(job, { ...base, status: 'failed', exitCode: 1, error: '' });
          const timedOutText = `timed out after ${formatDuration(timeoutMs ?? 0)}`;
          // A child that gave up on a model call or a read (left running) wrote its record but ended by its signal.
          const leftRunning = record?.error?.includes('left running');
          const how = record
            ? leftRunning
              ? `it stopped, leaving a model call or a read that did not return to end with its process; no partial results were kept`
              : 'it was stopped cleanly; no partial results were kept'
            : `it did not stop and was killed (${signal ?? `exit code ${code}`}); nothing was committed, and its temporary files are removed by the next run`;
          // The child saw the scheduler's SIGTERM: its inputs say why that came.
          for (const i of r.inputs) if (i.error?.startsWith('interrupted by ')) i.error = i.error.replace(/^interrupted by [A-Z]+/, timedOutText);
          return Object.assign(r, { status: 'failed', exit_code: 1, error: `${timedOutText}: ${how}` });
        }
        if (record) return null;
        if (stoppedBy) {
          const error = `stopped by the scheduler's shutdown (${signal ?? `exit code ${code}`}) before it could finish`;
          return schedulerRecord(job, { ...base, status: 'interrupted', exitCode: 143, error });
        }
        return schedulerRecord(job, { ...base, status: 'failed', exitCode: 1, error: describeExit(code, signal, spawnError, tail) });
      };
      const done = new Promise<RunRecord>((resolve) => {
        let settled = false;
        const end = (code: number | null, signal: NodeJS.Signals | null) => {
          if (settled) return;
          settled = true;
          for (const t of timers) clearTimeout(t);
          const own = ownRecord(code, signal);
          if (!own) return resolve(record as RunRecord);
          save(job, own)
            .catch((err: unknown) => own.warnings.push(`the run record could not be written: ${messageOf(err)}`))
            .finally(() => resolve(own));
        };
        // 'error' also reports signals that could not be delivered; only a process that never started ends here.
        child.on('error', (err) => {
          if (child.pid !== undefined) return;
          spawnError ??= err;
          end(null, null);
        });
        child.on('close', end);
      });
      return {
        pid: child.pid,
        done,
        stop: () => {
          stoppedBy ??= 'stop';
          child.kill('SIGTERM');
        },
        kill: () => {
          stoppedBy = 'kill';
          child.kill('SIGKILL');
        },
      };
    },
  };
}

export interface CheckResult {
  problems: string[];
  warnings: string[];
}

// Check a job's model in a child process (loading an odd model can abort the process that loads it).
export function checkInChild(job: JobConfig, childPath = CHILD_PATH): Promise<CheckResult> {
  return new Promise((resolve) => {
    const tail: string[] = [];
    let result: CheckResult | undefined;
    const child = spawnChild(childPath, (stream, line) => {
      if (stream === 'stderr') keep(tail, line);
    });
    child.on('message', (m: ChildReply) => {
      if (m.type === 'checked') result = { problems: m.problems, warnings: m.warnings };
    });
    child.on('error', (err) => {
      if (child.pid === undefined) resolve({ problems: [`the model check could not be started: ${err.message}`], warnings: [] });
    });
    child.on('close', (code, signal) => {
      if (result) return resolve(result);
      const how = describeExit(code, signal, undefined, tail).replace("the run's process", 'the process checking its model');
      resolve({ problems: [how], warnings: [] });
    });
    const request: ChildRequest = { type: 'check', job };
    child.send(request, () => undefined);
  });
}
