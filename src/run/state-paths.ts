// Where the scheduler keeps a job's state (how far it got in firing it): a file of state_dir that no result of
// the job may be written over (run/targets.ts), whoever runs it.
import path from 'node:path';

// The scheduler's state file of `job`.
export function scheduleStatePath(stateDir: string, job: string): string {
  return path.join(stateDir, 'schedule', `${job}.json`);
}
