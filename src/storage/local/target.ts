// What an output path is, decided before anything is written to it: a regular file or a new path (written to a
// temporary file and renamed into place), a stream that rename would destroy (a FIFO, a character device, a
// socket, a descriptor this process holds: `/dev/stdout`, `/dev/fd/63` from `>(gzip > x)`), or a path that
// cannot hold a result at all (a directory, a place under /proc or /sys). Also a `mkdir -p` that always ends:
// Node's recursive mkdir spins forever where a parent exists but refuses children with ENOENT (procfs does
// that: `mkdir /proc/x/y` never returned, at 100% CPU, in Node 20.20).
import { type Stats } from 'node:fs';
import { lstat, mkdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { displayPath } from '../../util/display.js';
import { pseudoFs } from '../../util/pseudo-fs.js';

export type TargetKind =
  /** A regular file or a path that does not exist yet. */
  | { kind: 'file' }
  /** A descriptor this process holds, named through /dev/fd, /proc/self/fd or /dev/stdout. */
  | { kind: 'descriptor'; fd: number }
  | { kind: 'fifo' | 'device' | 'socket' }
  | { kind: 'refused'; why: string };

// The kind of sink `file` gets, by stat following symbolic links (a link to a FIFO is a FIFO).
export async function inspectTarget(file: string): Promise<TargetKind> {
  const fd = await descriptorOf(file);
  if (fd !== undefined) return { kind: 'descriptor', fd };
  let s: Stats;
  try {
    s = await stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return { kind: 'file' }; // EACCES, ELOOP: opening says why
    return newPathTarget(file);
  }
  if (s.isFIFO()) return { kind: 'fifo' };
  if (s.isCharacterDevice() || s.isBlockDevice()) return { kind: 'device' };
  if (s.isSocket()) return { kind: 'socket' };
  if (s.isDirectory()) return { kind: 'refused', why: 'it is a directory: give a file name' };
  if (!s.isFile()) return { kind: 'refused', why: 'it is not a file, FIFO, socket or device' };
  const fs = await pseudoFs(file);
  return fs ? { kind: 'refused', why: `it is on ${fs}, which holds no result files: give a path on a disk` } : { kind: 'file' };
}

// A path that does not exist: its nearest existing ancestor must be a directory on a real file system.
async function newPathTarget(file: string): Promise<TargetKind> {
  let p = path.dirname(path.resolve(file));
  for (;;) {
    const s = await stat(p).catch(() => undefined);
    if (s) {
      if (!s.isDirectory()) return { kind: 'refused', why: `a parent of it (${displayPath(p)}) is a file, not a directory` };
      const fs = await pseudoFs(p);
      return fs ? { kind: 'refused', why: `${displayPath(p)} is on ${fs}, where no result file can be created: give a path on a disk` } : { kind: 'file' };
    }
    if ((await lstat(p).catch(() => undefined))?.isSymbolicLink()) return { kind: 'refused', why: `${displayPath(p)} is a symbolic link to nothing` };
    const parent = path.dirname(p);
    if (parent === p) return { kind: 'file' };
    p = parent;
  }
}

// The descriptor number when `file` names one of this process's open descriptors: /dev/fd/N, /dev/stdout,
// /proc/self/fd/N (through any chain of links). Such a path is written through that descriptor: opening it
// again would truncate a file opened for appending (`>>`) and fails outright for a socket.
async function descriptorOf(file: string): Promise<number | undefined> {
  const own = new RegExp(`^/proc/${process.pid}(/task/\\d+)?/fd$`);
  let p = path.resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    const dir = await realpath(path.dirname(p)).catch(() => undefined);
    if (dir === undefined) return undefined;
    const name = path.basename(p);
    if (own.test(dir) && /^\d+$/.test(name)) return Number(name);
    const link = await readlink(path.join(dir, name)).catch(() => undefined);
    if (link === undefined) return undefined;
    p = path.resolve(dir, link);
  }
  return undefined;
}

// `mkdir -p dir`: each missing directory is created once, from the top; an error is final (see the header).
export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let p = path.resolve(dir); ; ) {
    const s = await stat(p).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (s) {
      if (!s.isDirectory()) throw fsError('ENOTDIR', `${p} is not a directory`);
      break;
    }
    missing.unshift(p);
    if (path.dirname(p) === p) break;
    p = path.dirname(p);
  }
  for (const m of missing) {
    try {
      await mkdir(m);
    } catch (err) {
      const s = await stat(m).catch(() => undefined);
      if (!s?.isDirectory()) throw await mkdirError(m, err as NodeJS.ErrnoException);
    }
  }
}

// A directory that could not be created although its parent exists: said in words where errno misleads (a link
// to nothing, a file in the way, a parent that takes no entries).
async function mkdirError(dir: string, err: NodeJS.ErrnoException): Promise<NodeJS.ErrnoException> {
  if ((await lstat(dir).catch(() => undefined))?.isSymbolicLink()) return fsError('ENOENT', `${dir} is a symbolic link to nothing`);
  if (err.code === 'EEXIST') return fsError('ENOTDIR', `${dir} is not a directory`);
  if (err.code !== 'ENOENT') return err;
  const fs = await pseudoFs(path.dirname(dir));
  return fsError('ENOENT', `cannot create the directory ${dir}: ${fs ? `${path.dirname(dir)} is on ${fs}` : `${path.dirname(dir)} takes no new entries`}`);
}

// An errno-style error whose message is already the explanation (see isExplained).
function fsError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, explained: true });
}

// Whether an error from makeDirs carries its own words (rather than errno's).
export function isExplained(err: unknown): boolean {
  return (err as { explained?: boolean }).explained === true;
}
