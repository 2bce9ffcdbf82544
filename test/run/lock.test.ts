import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, lockPath } from '../../src/run/lock.js';

// The pid of a process that has exited.
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid as number;
}

describe('acquireLock', () => {
  it('a second contender is refused and told who holds the lock; release frees it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-lock-'));
    const first = await acquireLock(dir, 'j', 'run-1');
    expect(first.held).toBe(true);
    const second = await acquireLock(dir, 'j', 'run-2');
    expect(second).toEqual({ held: false, owner: expect.objectContaining({ pid: process.pid, host: hostname(), run_id: 'run-1' }) });
    if (first.held) await first.release();
    expect(existsSync(lockPath(dir, 'j'))).toBe(false);
    expect((await acquireLock(dir, 'j', 'run-3')).held).toBe(true);
  });

  it('takes over a lock whose process is gone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-lock-'));
    const file = lockPath(dir, 'j');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: hostname(), run_id: 'dead', started_at: '2026-01-01T00:00:00Z' }));
    const got = await acquireLock(dir, 'j', 'alive');
    expect(got.held).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, run_id: 'alive' });
  });

  it('does not take over a lock of another host (its pid means nothing here)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-lock-'));
    const file = lockPath(dir, 'j');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: `not-${hostname()}`, run_id: 'remote', started_at: '2026-01-01T00:00:00Z' }));
    expect((await acquireLock(dir, 'j', 'local')).held).toBe(false);
  });
});
