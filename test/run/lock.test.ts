// The per-job lock: exclusive while held, released after, taken over when its process is gone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, lockPath } from '../../src/run/lock.js';
import { processStartMs } from '../../src/util/process.js';
import { tempDir } from '../support/cli.js';

// The pid of a process that has exited (and so can hold no lock).
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('acquireLock', () => {
  it('is exclusive while held and free after release', async () => {
    const d = tempDir();
    const a = await acquireLock(d, 'job', 'run-a');
    expect(a.held).toBe(true);
    const b = await acquireLock(d, 'job', 'run-b');
    expect(b).toMatchObject({ held: false, owner: { pid: process.pid, run_id: 'run-a' } });
    if (a.held) await a.release();
    expect(existsSync(lockPath(d, 'job'))).toBe(false);
    const c = await acquireLock(d, 'job', 'run-c');
    expect(c.held).toBe(true);
  });

  it('takes over a lock whose process is gone', async () => {
    const d = tempDir();
    const file = lockPath(d, 'job');
    mkdirSync(path.dirname(file), { recursive: true });
    const pid = deadPid();
    writeFileSync(file, JSON.stringify({ pid, host: hostname(), run_id: 'old', started_at: '2020-01-01T00:00:00Z' }));
    const r = await acquireLock(d, 'job', 'new');
    expect(r.held).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, run_id: 'new' });
  });

  it.each([
    ['empty', ''],
    ['not JSON', 'garbage'],
    ['JSON without an owner', '{}'],
    ['JSON null', 'null'],
    ['an owner without a host', '{"pid": 12, "run_id": "x", "started_at": "x"}'],
  ])('takes over a lock file that names no owner (%s), once among many contenders', async (_what, text) => {
    const d = tempDir();
    const file = lockPath(d, 'job');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => acquireLock(d, 'job', `r${i}`)));
    expect(results.filter((r) => r.held)).toHaveLength(1);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
  });

  it('does not take over a lock held on another host', async () => {
    const d = tempDir();
    const file = lockPath(d, 'job');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: 'elsewhere', run_id: 'old', started_at: 'x' }));
    expect((await acquireLock(d, 'job', 'new')).held).toBe(false);
  });

  it('lets exactly one of many concurrent contenders take over a stale lock', async () => {
    const d = tempDir();
    const file = lockPath(d, 'job');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: hostname(), run_id: 'old', started_at: 'x' }));
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => acquireLock(d, 'job', `r${i}`)));
    expect(results.filter((r) => r.held)).toHaveLength(1);
  });

  it("takes over a lock of this process's pid written before this process started (a restarted container, pid 1 again)", async () => {
    const d = tempDir();
    const file = lockPath(d, 'job');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ pid: process.pid, host: hostname(), run_id: 'before-restart', started_at: new Date(performance.timeOrigin - 60_000).toISOString() }));
    const r = await acquireLock(d, 'job', 'after-restart');
    expect(r.held).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, run_id: 'after-restart' });
  });

  describe.runIf(process.platform === 'linux')('a live process with the lock\'s pid (pid reuse)', () => {
    // A live process unrelated to any lock, stopped by its pid after the test.
    async function withSleeper(fn: (pid: number) => Promise<void>): Promise<void> {
      const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
      try {
        await new Promise((resolve, reject) => sleeper.once('spawn', resolve).once('error', reject));
        await fn(sleeper.pid as number);
      } finally {
        sleeper.kill('SIGKILL');
      }
    }

    it('takes over a lock written before that process started', () =>
      withSleeper(async (pid) => {
        const d = tempDir();
        const file = lockPath(d, 'job');
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, JSON.stringify({ pid, host: hostname(), run_id: 'crashed', started_at: new Date(Date.now() - 3_600_000).toISOString() }));
        const r = await acquireLock(d, 'job', 'next');
        expect(r.held).toBe(true);
        expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, run_id: 'next' });
      }));

    it('keeps a lock that process may have written (it started before the lock)', () =>
      withSleeper(async (pid) => {
        const d = tempDir();
        const file = lockPath(d, 'job');
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, JSON.stringify({ pid, host: hostname(), run_id: 'running', started_at: new Date().toISOString() }));
        expect(await acquireLock(d, 'job', 'next')).toMatchObject({ held: false, owner: { pid, run_id: 'running' } });
      }));

    it('reads a process start time from /proc that matches when it was started', () =>
      withSleeper(async (pid) => {
        const started = processStartMs(pid) as number;
        expect(started).toBeGreaterThanOrEqual(processStartMs(process.pid) as number);
        expect(started).toBeLessThanOrEqual(Date.now());
        expect(processStartMs(deadPid())).toBeUndefined();
      }));
  });
});
