// Crash recovery: a run notes the directories it writes temporary files into (results, rejects) in
// state_dir/inflight/<job>.json before it writes anything, and removes the note when it ends. A run killed
// on the way (kill -9, OOM, power) leaves the note behind; the next run of the job, holding the job's lock
// (taken over from the dead run), removes the dead run's temporary files in those directories, even ones it
// will never write again (`out/{date}/…`), and says so in its record.
import { readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { removeStaleTempsIn } from '../storage/local/temps.js';
import { openSink } from '../storage/sink.js';
import { processAlive } from '../util/process.js';

interface Journal {
  pid: number;
  host: string;
  run_id: string;
  started_at: string;
  dirs: string[];
}

export function journalPath(stateDir: string, job: string): string {
  return path.join(stateDir, 'inflight', `${job}.json`);
}

// Note the directories this run is about to write into.
export async function beginJournal(stateDir: string, job: string, runId: string, dirs: string[]): Promise<void> {
  const journal: Journal = { pid: process.pid, host: hostname(), run_id: runId, started_at: new Date().toISOString(), dirs: [...new Set(dirs)].sort() };
  const sink = await openSink(journalPath(stateDir, job));
  await sink.write(`${JSON.stringify(journal)}\n`);
  await sink.commit();
}

// The run ended (well or not, but not killed): drop its note.
export async function endJournal(stateDir: string, job: string, runId: string): Promise<void> {
  const file = journalPath(stateDir, job);
  const j = await readJournal(file);
  if (j && j.run_id === runId && j.pid === process.pid) await unlink(file).catch(() => undefined);
}

// After taking the job's lock: clean up after an earlier run that did not end. Returns a line for the record,
// or undefined when there was nothing to recover.
export async function recoverJournal(stateDir: string, job: string): Promise<string | undefined> {
  const file = journalPath(stateDir, job);
  const j = await readJournal(file);
  if (!j) return undefined;
  // Ours (a run id reused in this process) or a live process elsewhere: not a crash.
  if (j.host !== hostname() || processAlive(j.pid, j.started_at)) return undefined;
  const removed: string[] = [];
  for (const dir of Array.isArray(j.dirs) ? j.dirs : []) {
    for (const name of await removeStaleTempsIn(dir)) removed.push(path.join(dir, name));
  }
  await unlink(file).catch(() => undefined);
  const what = removed.length === 0 ? 'it left no temporary files' : `removed ${removed.length} temporary file${removed.length === 1 ? '' : 's'} it left (${removed.map((f) => path.basename(f)).join(', ')})`;
  return `run ${j.run_id} (pid ${j.pid}, started ${j.started_at}) did not finish: ${what}`;
}

async function readJournal(file: string): Promise<Journal | undefined> {
  try {
    const j = JSON.parse(await readFile(file, 'utf8')) as Journal;
    return typeof j?.pid === 'number' ? j : undefined;
  } catch {
    return undefined;
  }
}
