// The lock a run, a shard of a run or a merge takes in the job's state_dir, with the messages a user sees
// when it is held by another process or cannot be written.
import { SbError } from '../errors.js';
import type { JobConfig } from '../job/config.js';
import { acquireLock } from './lock.js';

// Take the lock `stateName` (the job's name, or its shard's); held elsewhere → LOCKED naming the holder.
// `what` names the work in the message ("job churn", "shard 1 of 3 of job churn"), `action` what is skipped.
export async function takeJobLock(job: JobConfig, stateName: string, runId: string, what: string, action: 'run' | 'merge'): Promise<() => Promise<void>> {
  const lock = await acquireLock(job.stateDir, stateName, runId).catch((err: unknown) => {
    throw stateDirError(job, err);
  });
  if (!lock.held) {
    const o = lock.owner;
    const who = o ? `pid ${o.pid} on ${o.host} (run ${o.run_id}, since ${o.started_at})` : 'another process';
    throw new SbError('LOCKED', `${what} is already running: ${who}; this ${action} was skipped`);
  }
  return lock.release;
}

// The lock (the first thing a run writes) could not be taken: state_dir is not a usable directory.
export function stateDirError(job: Pick<JobConfig, 'stateDir'>, err: unknown): SbError {
  return new SbError('OUTPUT_INVALID', `cannot write the job's state in ${job.stateDir}: ${whyUnwritable(err)}`, { yamlPath: 'state_dir' });
}

// Why a file could not be created, in words, from the error of the call that failed.
export function whyUnwritable(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOTDIR' || e.code === 'EEXIST') return 'a parent of it is a file, not a directory';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'EROFS') return 'read-only file system';
  if (e.code === 'EISDIR') return 'a directory of that name is in the way';
  return e.message;
}
