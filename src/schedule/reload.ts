// SIGHUP reload: which jobs were added, changed or removed, compared by name (locks, run records and schedule
// state are per job name) and by a fingerprint of the whole normalized configuration.
import type { JobConfig } from '../job/config.js';

export interface JobDiff {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
}

// Compare job fingerprints by name before and after a reload; each list is sorted.
export function diffJobs(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): JobDiff {
  const d: JobDiff = { added: [], changed: [], removed: [], unchanged: [] };
  for (const [name, print] of after) {
    const old = before.get(name);
    if (old === undefined) d.added.push(name);
    else if (old === print) d.unchanged.push(name);
    else d.changed.push(name);
  }
  for (const name of before.keys()) if (!after.has(name)) d.removed.push(name);
  for (const list of Object.values(d)) list.sort();
  return d;
}

// A stable text of a job's configuration (Maps as entry lists) to tell changed jobs from unchanged ones.
export function fingerprint(job: JobConfig): string {
  return JSON.stringify(job, (_key, value: unknown) => (value instanceof Map ? [...value.entries()] : value));
}
