// acquireLockFile: the job lock's mechanism for any lock file (the metrics file's short lock uses it).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { acquireLockFile } from '../../src/run/lock.js';

// The pid of a process that has exited.
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid as number;
}

describe('acquireLockFile', () => {
  it('creates missing directories, is exclusive while held, and is gone after release', async () => {
    const file = path.join(tempDir('sb-lockfile-'), 'a/b/.metrics.prom.lock');
    const first = await acquireLockFile(file, 'run-1');
    expect(first.held).toBe(true);
    expect(await acquireLockFile(file, 'run-2')).toEqual({ held: false, owner: expect.objectContaining({ pid: process.pid, host: hostname(), run_id: 'run-1' }) });
    if (first.held) await first.release();
    expect(existsSync(file)).toBe(false);
  });

  it('takes over a lock file left by a dead process', async () => {
    const file = path.join(tempDir('sb-lockfile-'), '.x.lock');
    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: hostname(), run_id: 'dead', started_at: '2026-01-01T00:00:00Z' }));
    expect((await acquireLockFile(file, 'alive')).held).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, run_id: 'alive' });
  });
});
