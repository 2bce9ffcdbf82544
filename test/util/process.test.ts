import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../src/util/process.js';

// A pid that certainly belongs to no running process: a child that has exited and been reaped.
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  expect(r.status).toBe(0);
  return r.pid as number;
}

describe('isAlive', () => {
  it('is true for this process and its parent, false for a reaped child', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(process.ppid)).toBe(true);
    expect(isAlive(deadPid())).toBe(false);
  });
});
