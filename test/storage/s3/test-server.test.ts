// The S3 test server harness: a server whose test run was killed is stopped by the next start (by its pid,
// after checking the pid still runs our server script), and a server whose run is alive is left alone. And a
// client made by serve-batch prints nothing, although the SDK warns about Node 20 by default.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../support/cli.js';
import { PID_DIR, removeLeftServers, startS3Server, startTime, type S3TestServer } from '../../support/s3-server.js';

let server: S3TestServer;

beforeAll(async () => {
  server = await startS3Server();
});

afterAll(async () => {
  await server?.stop();
});

// Whether `pid` still runs (a zombie waiting for its parent to reap it does not).
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

// A process that starts a server the way the harness does and is then SIGKILLed, leaving the server behind.
async function orphanServer(): Promise<{ pid: number; directory: string }> {
  const script = `
    const { spawn } = require('node:child_process');
    const { mkdtempSync } = require('node:fs');
    const dir = mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'sb-s3rver-'));
    const s = spawn(process.execPath, [${JSON.stringify(path.join(ROOT, 'test/support/s3-server-main.cjs'))}, dir, ${JSON.stringify(PID_DIR)}], { stdio: ['ignore', 'pipe', 'inherit'] });
    s.stdout.once('data', () => console.log(JSON.stringify({ pid: s.pid, directory: dir })));
    setInterval(() => {}, 60000);`;
  const owner = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => owner.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
  const exited = new Promise((resolve) => owner.once('exit', resolve));
  owner.kill('SIGKILL');
  await exited;
  return JSON.parse(line) as { pid: number; directory: string };
}

describe('the S3 test server harness', () => {
  it('stops a server left by a killed run, removes its pid file and data, and leaves live servers alone', async () => {
    const orphan = await orphanServer();
    expect(running(orphan.pid)).toBe(true);
    expect(existsSync(path.join(PID_DIR, `${orphan.pid}.json`))).toBe(true);
    const stopped = removeLeftServers();
    expect(stopped).toContain(orphan.pid);
    expect(stopped).not.toContain(server.pid);
    for (let i = 0; i < 100 && running(orphan.pid); i++) await sleep(50);
    expect(running(orphan.pid)).toBe(false);
    expect(existsSync(path.join(PID_DIR, `${orphan.pid}.json`))).toBe(false);
    expect(existsSync(orphan.directory)).toBe(false);
    expect(running(server.pid)).toBe(true);
    expect(startTime(server.pid)).toBeDefined();
  });

  it('stop() ends the server by its pid and removes its pid file', async () => {
    const other = await startS3Server();
    expect(running(other.pid)).toBe(true);
    await other.stop();
    expect(running(other.pid)).toBe(false);
    expect(existsSync(path.join(PID_DIR, `${other.pid}.json`))).toBe(false);
  });
});

describe('the S3 client', () => {
  it('prints no warning on Node 20 when serve-batch makes it (the SDK version is pinned)', () => {
    const script = `import('${path.join(ROOT, 'dist/src/storage/s3/client.js')}').then(({ openS3Store }) => { const s = openS3Store({ endpoint: '${server.endpoint}' }); s.close(); console.log('made'); })`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...server.env(), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined } });
    expect(r.stdout).toBe('made\n');
    expect(r.stderr).toBe('');
    expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBeUndefined();
  });
});
