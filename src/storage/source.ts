// Where input bytes are read from. Every format reader (src/io) reads through a ByteSource, whatever holds the
// bytes: a local file or standard input (storage/local), later an object store (storage/s3). A source is opened
// by its URL through the backend that serves it (backends.ts); nothing above src/storage asks what kind of
// place a URL names.
import { SbError } from '../errors.js';
import { backendFor } from './backends.js';

/** Bytes [start, end) of a source. */
export interface ByteRange {
  start: number;
  end: number;
}

/** What a source is now: its identity for the ledger and the run record. */
export interface SourceStat {
  /** Bytes. */
  size: number;
  /** Last modification, ms since the epoch (a file's mtime; an object's Last-Modified). */
  mtimeMs: number;
  /** What the store says identifies these bytes, when it says so (an object's ETag and VersionId): the same
   *  identity means the same bytes, another means other bytes, without reading them. Compared as text. */
  identity?: string;
}

/** How a source is read in order. */
export interface OpenOptions {
  /** Hash the bytes on the way (default true); false where the sha256 is taken elsewhere. */
  hash?: boolean;
}

/** The blocks of a source in order, in bounded memory; what was read is counted and hashed on the way. A
 *  block is valid until the next one is asked for (the reader's buffer is reused); stopping the iteration
 *  early releases what the source holds open. */
export interface SourceStream extends AsyncIterable<Uint8Array> {
  /** Bytes read so far. */
  readonly bytesRead: number;
  /** sha256 of every byte of the source (or of the range), once the stream was read to its end (undefined
   *  when it was opened with `hash: false`). */
  sha256(): string | undefined;
}

export interface ByteSource {
  /** What it was opened as: an absolute path, '-' (standard input), later s3://bucket/key. */
  readonly url: string;
  /** As shown in messages and in rejects files. */
  readonly display: string;
  /** Size and modification time; undefined when there is nothing stored to describe (it is gone, or a
   *  pipe, FIFO or device whose bytes exist only as they are read). The ledger keys inputs by `url` and
   *  decides with this (and the sha256 of the bytes when the size alone cannot tell). */
  stat(): Promise<SourceStat | undefined>;
  /** Sequential blocks, optionally of bytes [start, end) only (a shard's piece). Errors are INPUT_FAILED. */
  open(range?: ByteRange, options?: OpenOptions): SourceStream;
  /** Bytes [start, end) by random access (Parquet footers and row groups; shard planning); undefined where
   *  the source can only be read in order (standard input). Later: an object store's ranged GET. */
  readAt?(start: number, end: number): Promise<Uint8Array>;
  /** Release what readAt keeps open (a file handle). */
  close(): Promise<void>;
}

// The source at `url` ('-': standard input), shown as `display` in messages.
export function openSource(url: string, display: string): ByteSource {
  return backendFor(url).source(url, display);
}

// Fail unless `source` is still what `seen` described: several readers of one input, each with a source of its
// own, must read the same bytes (an object's reads are pinned to the version its own HEAD saw).
export async function assertUnchanged(source: ByteSource, seen: SourceStat): Promise<void> {
  const now = await source.stat();
  if (now && now.size === seen.size && now.mtimeMs === seen.mtimeMs && now.identity === seen.identity) return;
  throw changedWhileRead(source.display);
}

/** The failure of an input found to be other bytes than the ones planned (replaced, grown, shrunk). */
export function changedWhileRead(display: string): SbError {
  return new SbError('INPUT_FAILED', 'it changed while it was being read; run again to read the new version', { file: display });
}
