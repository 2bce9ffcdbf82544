// Crash recovery: a run notes the directories it writes temporary files into (results, rejects) in
// state_dir/inflight/<job>.json before it writes anything, and removes the note when it ends. A run killed
// on the way (kill -9, OOM, power) leaves the note behind; the next run of the job, holding the job's lock
// (taken over from the dead run), removes the dead run's temporary files in those directories, even ones it
// will never write again (`out/{date}/…`), and says so in its record.
//
// Writes that live in an object store until someone ends them (multipart uploads) are noted too, each before
// its first part is sent and dropped once it is completed or aborted; the next run aborts a dead run's. One the
// store will not abort (s3rver answers 405) stays noted, in a note marked `ended` that outlives the run, and
// each later run tries again and says so, until the store (a lifecycle rule) or the user removes it.
import { readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { removeStaleTempsIn } from '../storage/local/temps.js';
import type { PendingWrite, StorageHooks } from '../storage/scope.js';
import { abandonPending, openSink } from '../storage/sink.js';
import { processAlive } from '../util/process.js';

interface Journal {
  pid: number;
  host: string;
  run_id: string;
  started_at: string;
  dirs: string[];
  /** Unfinished uploads (absent in notes of older versions). */
  pending?: PendingWrite[];
  /** The run ended, leaving uploads the store would not abort. */
  ended?: boolean;
}

export function journalPath(stateDir: string, job: string): string {
  return path.join(stateDir, 'inflight', `${job}.json`);
}

// Note the directories this run is about to write into (uploads an earlier run could not abort stay noted).
export async function beginJournal(stateDir: string, job: string, runId: string, dirs: string[]): Promise<void> {
  const earlier = await readJournal(journalPath(stateDir, job));
  const pending = earlier?.ended ? pendingOf(earlier) : [];
  await writeJournal(stateDir, job, { pid: process.pid, host: hostname(), run_id: runId, started_at: new Date().toISOString(), dirs: [...new Set(dirs)].sort(), pending });
}

// The hooks through which the storage backends note this run's uploads in its journal (one update at a time).
export function journalHooks(stateDir: string, job: string, runId: string): Pick<StorageHooks, 'pendingStarted' | 'pendingEnded'> {
  let queue: Promise<void> = Promise.resolve();
  const update = (change: (pending: PendingWrite[]) => PendingWrite[]) => {
    const next = queue.then(async () => {
      const j = await readJournal(journalPath(stateDir, job));
      if (!j || j.run_id !== runId || j.pid !== process.pid) return;
      await writeJournal(stateDir, job, { ...j, pending: change(pendingOf(j)) });
    });
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    pendingStarted: (p) => update((all) => [...all, p]),
    pendingEnded: (p) => update((all) => all.filter((x) => x.url !== p.url || x.id !== p.id)),
  };
}

// The run ended (well or not, but not killed): drop its note, unless uploads it could not abort are in it.
export async function endJournal(stateDir: string, job: string, runId: string): Promise<void> {
  const file = journalPath(stateDir, job);
  const j = await readJournal(file);
  if (!j || j.run_id !== runId || j.pid !== process.pid) return;
  if (pendingOf(j).length > 0) await writeJournal(stateDir, job, { ...j, dirs: [], ended: true });
  else await unlink(file).catch(() => undefined);
}

// After taking the job's lock: clean up after an earlier run that did not end, and abort uploads earlier runs
// left. Returns a line for the record, or undefined when there was nothing to recover.
export async function recoverJournal(stateDir: string, job: string): Promise<string | undefined> {
  const file = journalPath(stateDir, job);
  const j = await readJournal(file);
  if (!j) return undefined;
  // Ours (a run id reused in this process) or a live process elsewhere: not a crash.
  if (!j.ended && (j.host !== hostname() || processAlive(j.pid, j.started_at))) return undefined;
  const removed: string[] = [];
  for (const dir of j.ended || !Array.isArray(j.dirs) ? [] : j.dirs) {
    for (const name of await removeStaleTempsIn(dir)) removed.push(path.join(dir, name));
  }
  const outcomes = await abandonPending(pendingOf(j));
  const kept = outcomes.filter((o) => !o.done);
  if (kept.length > 0) await writeJournal(stateDir, job, { ...j, dirs: [], pending: kept.map((o) => o.write), ended: true });
  else await unlink(file).catch(() => undefined);
  const said: string[] = [];
  if (!j.ended) said.push(removed.length === 0 ? 'it left no temporary files' : `removed ${removed.length} temporary file${removed.length === 1 ? '' : 's'} it left (${removed.map((f) => path.basename(f)).join(', ')})`);
  const aborted = outcomes.filter((o) => o.done);
  if (aborted.length > 0) said.push(`aborted ${uploads(aborted.length)} it left (${aborted.map((o) => o.write.url).join(', ')})`);
  if (kept.length > 0) said.push(`could not abort ${uploads(kept.length)} it left, noted for the next run: ${kept.map((o) => o.reason ?? o.write.url).join('; ')}`);
  return `run ${j.run_id} (pid ${j.pid}, started ${j.started_at}) ${j.ended ? 'ended' : 'did not finish'}: ${said.join('; ')}`;
}

function uploads(n: number): string {
  return `${n} multipart upload${n === 1 ? '' : 's'}`;
}

function pendingOf(j: Journal): PendingWrite[] {
  return Array.isArray(j.pending) ? j.pending.filter((p) => typeof p?.url === 'string' && typeof p.id === 'string') : [];
}

async function writeJournal(stateDir: string, job: string, journal: Journal): Promise<void> {
  const sink = await openSink(journalPath(stateDir, job));
  await sink.write(`${JSON.stringify(journal)}\n`);
  await sink.commit();
}

async function readJournal(file: string): Promise<Journal | undefined> {
  try {
    const j = JSON.parse(await readFile(file, 'utf8')) as Journal;
    return typeof j?.pid === 'number' ? j : undefined;
  } catch {
    return undefined;
  }
}
