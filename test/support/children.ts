// Every CLI process a test starts is written down (a file per pid under the system temp folder) until it has
// ended, so none outlives the test run: a test that times out or a test worker that is killed leaves its
// `schedule` processes running, each firing runs every second and loading the machine for every later test.
// This process stops what it started when it exits; the global setup stops what a killed run left.
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// One folder per checkout: a test run elsewhere on the machine keeps its own.
const DIR = path.join(os.tmpdir(), `serve-batch-test-children-${createHash('sha256').update(path.resolve(import.meta.dirname, '../..')).digest('hex').slice(0, 12)}`);
const running = new Set<ChildProcess>();

// Write `child` down until it closes.
export function track(child: ChildProcess, bin: string): void {
  const pid = child.pid;
  if (pid === undefined) return;
  mkdirSync(DIR, { recursive: true });
  const file = path.join(DIR, String(pid));
  writeFileSync(file, bin);
  if (running.size === 0) process.once('exit', stopAll);
  running.add(child);
  child.once('close', () => {
    running.delete(child);
    rmSync(file, { force: true });
  });
}

function stopAll(): void {
  for (const c of running) c.kill('SIGKILL');
}

/** Stop the CLI processes an earlier, killed test run left: a pid written down that still runs that program. */
export function stopLeftChildren(): number {
  let stopped = 0;
  let pids: string[];
  try {
    pids = readdirSync(DIR);
  } catch {
    return 0;
  }
  for (const name of pids) {
    const file = path.join(DIR, name);
    const bin = readFileSync(file, 'utf8');
    if (commandLine(Number(name)).includes(bin)) {
      try {
        process.kill(Number(name), 'SIGKILL');
        stopped++;
      } catch {
        // Gone meanwhile.
      }
    }
    rmSync(file, { force: true });
  }
  return stopped;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}
