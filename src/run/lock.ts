// One lock per job in state_dir, taken by every entry point (run, the scheduler's runs, CI), so two runs of
// a job never overlap. A lock whose process is gone (same host) is taken over, also when its pid now belongs
// to a process that started after the lock was written.
//
// Creation is `link(temp, lock)`, which fails if the lock exists. Taking over a stale lock needs a token
// named after that stale owner, created the same exclusive way, so only one contender replaces it (by an
// atomic rename); the winner checks the lock is still the stale one first, since a slower contender may
// win the token after an earlier takeover finished.
import { hostname } from 'node:os';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from '../util/process.js';
import { makeDirs } from '../storage/local/target.js';

interface LockOwner {
  pid: number;
  host: string;
  run_id: string;
  started_at: string;
}

export type LockResult = { held: true; release: () => Promise<void> } | { held: false; owner: LockOwner | undefined };

export function lockPath(stateDir: string, job: string): string {
  return path.join(stateDir, 'locks', `${job}.lock`);
}

// Try to take the job's lock (never waits).
export async function acquireLock(stateDir: string, job: string, runId: string): Promise<LockResult> {
  return acquireLockFile(lockPath(stateDir, job), runId);
}

// Try to take the lock file `file` (never waits); also used for short critical sections such as metrics files.
export async function acquireLockFile(file: string, runId: string): Promise<LockResult> {
  await makeDirs(path.dirname(file));
  const me: LockOwner = { pid: process.pid, host: hostname(), run_id: runId, started_at: new Date().toISOString() };
  const temp = `${file}.${process.pid}.${Math.random().toString(16).slice(2)}`;
  await writeFile(temp, JSON.stringify(me));
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(temp, file);
        return { held: true, release: () => release(file, me) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = await readOwner(file);
      if (owner === undefined) continue; // released meanwhile: try again
      if (!isStale(owner)) return { held: false, owner };
      if (await takeOver(file, owner, temp)) return { held: true, release: () => release(file, me) };
    }
    return { held: false, owner: await readOwner(file) };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

// A lock is stale when its process is gone; only decidable on the host that wrote it. A lock that names no
// owner is stale too: a lock appears whole (linked from a complete file), so no running process left it so.
function isStale(owner: LockOwner): boolean {
  if (owner === UNREADABLE) return true;
  return owner.host === hostname() && !processAlive(owner.pid, owner.started_at);
}

// Replace a stale lock by ours (true), unless another contender is doing it or did it (false).
async function takeOver(file: string, stale: LockOwner, mine: string): Promise<boolean> {
  const token = `${file}.takeover-${stale.pid}-${String(stale.run_id).replace(/[^\w.-]/g, '_')}`;
  try {
    await link(mine, token);
  } catch {
    return false;
  }
  try {
    const now = await readOwner(file);
    if (!now || now.pid !== stale.pid || now.run_id !== stale.run_id) return false;
    await rename(mine, file);
    return true;
  } finally {
    await unlink(token).catch(() => undefined);
  }
}

/** What a lock file that names no owner (empty, not JSON, no pid or host) stands for. Such a file is never
 *  one a process is writing — locks are linked into place whole — but what a machine's crash can leave (an
 *  empty file after a power cut) or another program wrote: it is taken over like a dead owner's. */
const UNREADABLE: LockOwner = Object.freeze({ pid: -1, host: '?', run_id: 'unreadable', started_at: '?' });

// The owner a lock file names; undefined when there is no lock file.
async function readOwner(file: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return UNREADABLE;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner> | null;
    const valid = o !== null && typeof o === 'object' && Number.isInteger(o.pid) && typeof o.host === 'string' && typeof o.run_id === 'string' && typeof o.started_at === 'string';
    return valid ? (o as LockOwner) : UNREADABLE;
  } catch {
    return UNREADABLE;
  }
}

async function release(file: string, me: LockOwner): Promise<void> {
  const owner = await readOwner(file);
  if (owner && owner.pid === me.pid && owner.run_id === me.run_id) await unlink(file).catch(() => undefined);
}
