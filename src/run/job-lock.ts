// The lock a run, a shard of a run or a merge takes in the job's state_dir, with the messages a user sees
// when it is held by another process or cannot be written.
import { SbError } from '../errors.js';
import type { JobConfig } from '../job/config.js';
import { whyUnwritable } from '../util/errno.js';
import { acquireLock } from './lock.js';

export { whyUnwritable };

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
