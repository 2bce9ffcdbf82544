// The places bytes live, by URL scheme. A backend serves sources, sinks and listings for its URLs; the local
// backend (storage/local: paths, '-' for standard input and output) serves everything without a scheme. A new
// backend (an object store: `s3://bucket/key`) lives in its own folder under src/storage, implements Backend,
// and is registered once at start-up with registerBackend(); the formats, the pipeline and the run then read,
// write and list its URLs without knowing it is there.
import { SbError } from '../errors.js';
import { localBackend } from './local/backend.js';
import { s3Backend } from './s3/backend.js';
import type { PendingWrite } from './scope.js';
import type { ByteSink, SinkOptions } from './sink.js';
import type { ByteSource } from './source.js';

/** An input found by listing: its URL and size when known. */
export interface Listed {
  /** Absolute path, '-' (standard input), or the backend's URL. */
  path: string;
  bytes?: number;
}

export interface ListOptions {
  /** Which entries of a listed directory are inputs (a name with a known format); all when absent. */
  keep?: (url: string) => boolean;
}

export interface Backend {
  /** The URL scheme it serves (`s3`); the local backend serves URLs without one. */
  readonly scheme: string;
  source(url: string, display: string): ByteSource;
  sink(url: string, o: SinkOptions): Promise<ByteSink>;
  /** Remove the result an earlier run left at `url` (never a stream). */
  remove(url: string): Promise<void>;
  /** Whether a result stands at `url` that a new one would replace (a regular file, an object; never a stream). */
  exists(url: string): Promise<boolean>;
  /** The inputs `patterns` name, sorted and de-duplicated; a literal URL that does not exist is an error
   *  (PATH_NOT_FOUND), a pattern that matches nothing is an empty list. */
  list(patterns: string[], o: ListOptions): Promise<Listed[]>;
  /** Throws the one-line reason when a result cannot be written at `url` (asked before any input is read);
   *  the local backend's checks are the run's own (run/targets.ts). */
  checkWritable?(url: string): Promise<void>;
  /** Abort writes a killed run left pending (multipart uploads); one outcome each, in order. */
  abandon?(writes: PendingWrite[]): Promise<{ done: boolean; reason?: string }[]>;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

const backends = new Map<string, Backend>();

// Serve the URLs of `b.scheme` with `b` from now on.
export function registerBackend(b: Backend): void {
  backends.set(b.scheme.toLowerCase(), b);
}

// Whether `url` is a path on this machine (or '-'), served by the local backend.
export function isLocal(url: string): boolean {
  return !SCHEME.test(url);
}

// The backend that serves `url`.
export function backendFor(url: string): Backend {
  const m = SCHEME.exec(url);
  if (!m) return localBackend;
  const b = backends.get(m[1].toLowerCase());
  if (!b) throw new SbError('USAGE', `${url}: serve-batch cannot read or write ${m[1]}:// URLs`);
  return b;
}

// Every input `patterns` name, each pattern listed by its backend; sorted, without duplicates.
export async function listInputs(patterns: string[], o: ListOptions = {}): Promise<Listed[]> {
  const groups = new Map<Backend, string[]>();
  for (const p of patterns) {
    const b = backendFor(p);
    groups.set(b, [...(groups.get(b) ?? []), p]);
  }
  if (groups.size <= 1) return (groups.keys().next().value ?? localBackend).list(patterns, o);
  const all = new Map<string, Listed>();
  for (const [b, ps] of groups) for (const l of await b.list(ps, o)) all.set(l.path, l);
  return [...all.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// The backends serve-batch ships besides local files.
registerBackend(s3Backend);
