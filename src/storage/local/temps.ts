// Temporary files of local file sinks: `.name.<pid>.<random>.sb-tmp` next to the file they become. The pid
// lets a later run remove what a killed run left: the first file this process opens in a directory removes
// every temporary file there whose writer is gone, whatever its target (a killed run's `{date}` or
// `{run_id}` result is never written again under the same name). A temporary file belongs to a live writer
// when its pid is alive and that process started before the file was last written (util/process.ts, the test
// the job lock uses): a pid now held by an unrelated process (pid reuse, a restarted container) does not keep
// a dead run's temporary file.
import { randomBytes } from 'node:crypto';
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { processAlive, START_SLACK_MS } from '../../util/process.js';

const SUFFIX = '.sb-tmp';
const TEMP = /^\..+\.(\d+)\.[0-9a-f]{8}\.sb-tmp$/;

// `.name.<pid>.<random>.sb-tmp` next to `file`.
export function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}${SUFFIX}`);
}

const cleaned = new Set<string>();

// removeStaleTempsIn(dir), the first time this process writes into `dir` (temps of dead processes do not
// reappear while it runs, and a landing folder of many files is read once, not once per result).
export async function removeStaleTempsOnce(dir: string): Promise<void> {
  if (cleaned.has(dir)) return;
  await removeStaleTempsIn(dir);
  cleaned.add(dir);
}

// Remove every temporary file in `dir` (any target) whose writer is gone; returns their names.
export async function removeStaleTempsIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    const s = await stat(file).catch(() => undefined);
    if (!s || writerAlive(Number(m[1]), s.mtimeMs)) continue;
    await unlink(file).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return removed;
}

// Whether the process that last wrote a temporary file at `writtenMs` is still running. This process's own
// files count as its own unless written well before it started (a file system may keep whole seconds).
function writerAlive(pid: number, writtenMs: number): boolean {
  if (pid === process.pid) return writtenMs + START_SLACK_MS >= performance.timeOrigin;
  return processAlive(pid, writtenMs);
}
