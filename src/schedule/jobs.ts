// The scheduler's job set: job files found in the given directories and files, loaded and checked. Every
// problem is collected (the scheduler refuses to start on any, listing them all); on a reload, a file that
// became invalid keeps its previous, valid version running.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { JobConfig } from '../job/config.js';
import { SbError } from '../errors.js';
import { FOLDER_DEFAULTS, loadJob } from '../job/load.js';
import { displayPath as display } from '../util/display.js';
import type { CheckResult } from './runner.js';

export interface JobSet {
  jobs: JobConfig[];
  /** Job file → its job, for keeping the previous version of a file that became invalid. */
  byFile: Map<string, JobConfig>;
  problems: string[];
  /** Paths that could not be read at all (on a reload: nothing is changed then). */
  unreadable: string[];
  warnings: { file: string; message: string }[];
}

const JOB_FILE = /\.ya?ml$/i;

// Job files named by `targets`: files as given, directories' *.yaml/*.yml (not hidden, not the folder's
// _defaults.yaml), sorted.
// A directory without job files is no problem (`empty`): the scheduler stays up idle, at start as after a
// reload, until a reload brings some.
export async function findJobFiles(targets: string[]): Promise<{ files: string[]; problems: string[]; unreadable: string[]; empty: string[] }> {
  const files: string[] = [];
  const problems: string[] = [];
  const unreadable: string[] = [];
  const empty: string[] = [];
  for (const t of targets) {
    const abs = path.resolve(t);
    let s;
    let names: string[] = [];
    try {
      s = await stat(abs);
      if (s.isDirectory()) names = (await readdir(abs)).filter((n) => JOB_FILE.test(n) && !n.startsWith('.') && n !== FOLDER_DEFAULTS).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const problem = code === 'ENOENT' ? `${t}: no such file or directory` : `${t}: cannot read it: ${(err as Error).message}`;
      problems.push(problem);
      unreadable.push(problem);
      continue;
    }
    if (s.isDirectory()) {
      if (names.length === 0) empty.push(abs);
      files.push(...names.map((n) => path.join(abs, n)));
    } else {
      files.push(abs);
    }
  }
  return { files: [...new Set(files)], problems, unreadable, empty };
}

// Load and check every job file; `previous` (a reload) supplies the old version of files that became invalid.
export async function loadJobSet(
  targets: string[],
  check: (job: JobConfig) => Promise<CheckResult>,
  previous?: Map<string, JobConfig>,
): Promise<JobSet> {
  const found = await findJobFiles(targets);
  const set: JobSet = { jobs: [], byFile: new Map(), problems: [...found.problems], unreadable: found.unreadable, warnings: found.empty.map((file) => ({ file, message: 'no job files (*.yaml, *.yml) in this directory' })) };
  const loaded: JobConfig[] = [];
  for (const file of found.files) {
    try {
      loaded.push(loadJob(file));
    } catch (err) {
      if (!(err instanceof SbError)) throw err;
      // A folder's _defaults.yaml problem comes with each of its job files: said once.
      for (const p of err.context.problems ?? [err.describe()]) if (!set.problems.includes(p)) set.problems.push(p);
      const old = previous?.get(file);
      if (old) loaded.push(old);
    }
  }
  const checks = await pool(loaded, 4, (job) => (previous?.get(job.file) === job ? Promise.resolve({ problems: [], warnings: [] }) : check(job)));
  const names = new Map<string, string>();
  loaded.forEach((job, i) => {
    const c = checks[i];
    set.warnings.push(...c.warnings.map((message) => ({ file: job.file, message })));
    const other = names.get(job.name);
    if (other) {
      set.problems.push(`${display(job.file)}: job name '${job.name}' is also used by ${display(other)}; names must be unique (they name locks and run records)`);
      return;
    }
    names.set(job.name, job.file);
    if (c.problems.length > 0) {
      set.problems.push(...c.problems.map((p) => `${display(job.file)}: ${p}`));
      const old = previous?.get(job.file);
      if (!old) return;
      job = old;
    }
    set.jobs.push(job);
    set.byFile.set(job.file, job);
  });
  return set;
}

// Map over items with at most `limit` promises at a time, keeping order.
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
