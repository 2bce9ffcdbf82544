// An object as a source of bytes: its identity from HEAD (bucket, key, ETag, VersionId when the bucket keeps
// versions, size, last modified), sequential blocks from one streamed GET (memory stays at one block plus the
// socket's buffers, whatever the object's size), and explicit ranged reads (`bytes=a-b`; never a suffix range
// `bytes=-n`, which some S3-compatible servers answer with the wrong bytes).
//
// Every GET is tied to the version HEAD saw (VersionId when there is one, else If-Match on the ETag, and the
// answer's ETag compared, for servers that ignore If-Match): an object rewritten while it is read fails the
// input instead of mixing two versions. A body cut off mid-way (reset, silence beyond the idle timeout) is
// read on from where it stopped with a new ranged GET, up to 3 times in a row without progress. A server that
// answers a range with more than was asked (the whole object, or from an earlier byte) is read for the bytes
// asked only.
import { GetObjectCommand, HeadObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { SbError } from '../../errors.js';
import type { S3Store } from './client.js';
import { isTransient, s3Failure } from './failure.js';
import { parseS3Url, s3Url, type S3Location } from './url.js';

export interface S3ObjectStat {
  bucket: string;
  key: string;
  /** As the store gives it, quotes included; never parsed (a multipart object's ETag is not an MD5 on AWS, is one elsewhere). */
  etag: string;
  versionId?: string;
  bytes: number;
  lastModified?: Date;
}

/** Bytes [start, end). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface S3SourceOptions {
  /** Size of the blocks `open()` yields (default 1 MiB, the local files' block). */
  blockBytes?: number;
}

const BLOCK_BYTES = 1 << 20;
const RESUMES = 3;

export class S3Source {
  readonly url: string;
  /** As shown in messages and rejects files. */
  readonly display: string;
  private readonly loc: S3Location;
  private statted?: Promise<S3ObjectStat>;

  constructor(
    private readonly store: S3Store,
    url: string,
    private readonly o: S3SourceOptions = {},
  ) {
    this.loc = parseS3Url(url);
    if (this.loc.key === '' || this.loc.key.endsWith('/')) throw new SbError('JOB_INVALID', `${url} names a folder, not an object`);
    this.url = s3Url(this.loc);
    this.display = this.url;
  }

  /** Identity and size, from one HEAD (the same answer for the life of this source). */
  stat(): Promise<S3ObjectStat> {
    this.statted ??= this.head();
    return this.statted;
  }

  private async head(): Promise<S3ObjectStat> {
    try {
      const h = await this.store.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.loc.key }));
      return { ...this.loc, etag: h.ETag ?? '', versionId: h.VersionId || undefined, bytes: h.ContentLength ?? 0, lastModified: h.LastModified };
    } catch (err) {
      throw s3Failure(err, this.url, 'read', this.store);
    }
  }

  /** Sequential blocks of the object, or of bytes [start, end) of it. A block is reused for the next one, as
   *  local files' blocks are: a consumer copies what it keeps before it asks for the next. */
  async *open(range?: ByteRange): AsyncGenerator<Uint8Array> {
    const st = await this.stat();
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? st.bytes, st.bytes);
    const block = Buffer.allocUnsafeSlow(Math.max(1, Math.min(this.o.blockBytes ?? BLOCK_BYTES, end - start)));
    let fill = 0;
    for await (const piece of this.pieces(st, start, end)) {
      let at = 0;
      while (at < piece.length) {
        const n = Math.min(piece.length - at, block.length - fill);
        piece.copy(block, fill, at, at + n);
        fill += n;
        at += n;
        if (fill === block.length) {
          yield block;
          fill = 0;
        }
      }
    }
    if (fill > 0) yield block.subarray(0, fill);
  }

  /** Bytes [start, end) (end clipped to the object's size), by a ranged GET. */
  async readAt(start: number, end: number): Promise<Uint8Array> {
    const st = await this.stat();
    end = Math.min(end, st.bytes);
    if (end <= start) return new Uint8Array(0);
    const out = Buffer.allocUnsafe(end - start);
    let got = 0;
    for await (const piece of this.pieces(st, start, end)) {
      piece.copy(out, got);
      got += piece.length;
    }
    return out;
  }

  // The bytes [start, end) as the socket delivers them, a cut-off body read on from where it stopped.
  private async *pieces(st: S3ObjectStat, start: number, end: number): AsyncGenerator<Buffer> {
    let pos = start;
    let failures = 0;
    while (pos < end) {
      const { body, servedFrom, servedTo } = await this.get(st, pos, end);
      let skip = pos - servedFrom;
      const before = pos;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          let piece = chunk;
          if (skip > 0) {
            const n = Math.min(skip, piece.length);
            skip -= n;
            piece = piece.subarray(n);
          }
          if (piece.length > end - pos) piece = piece.subarray(0, end - pos);
          if (piece.length === 0) continue;
          pos += piece.length;
          yield piece;
          // A body that goes on past the range (the store ignored it) is cut here; one that ends with it is read
          // to its end, so its connection goes back to the pool.
          if (pos >= end && servedTo > end) break;
        }
        if (pos < end) throw Object.assign(new Error('the body ended early'), { code: 'ECONNRESET' });
      } catch (err) {
        body.destroy();
        if (err instanceof SbError) throw err;
        failures = pos > before ? 1 : failures + 1;
        if (!isTransient(err) || failures > RESUMES) throw s3Failure(err, this.url, 'read', this.store);
      }
    }
  }

  // One GET from `pos` to `end`, of the version `st` describes, and where the bytes it sends start.
  private async get(st: S3ObjectStat, pos: number, end: number): Promise<{ body: Readable; servedFrom: number; servedTo: number }> {
    const whole = pos === 0 && end === st.bytes;
    let r: GetObjectCommandOutput;
    try {
      r = await this.store.client.send(
        new GetObjectCommand({
          Bucket: this.loc.bucket,
          Key: this.loc.key,
          Range: whole ? undefined : `bytes=${pos}-${end - 1}`,
          VersionId: st.versionId,
          IfMatch: st.versionId || !st.etag ? undefined : st.etag,
        }),
      );
    } catch (err) {
      throw s3Failure(err, this.url, 'read', this.store);
    }
    const body = r.Body as Readable;
    if (!st.versionId && st.etag && r.ETag && r.ETag !== st.etag) {
      body.destroy();
      throw new SbError('INPUT_FAILED', `cannot read ${this.url}: the object changed while it was being read; run again to read the new version`);
    }
    const served = /^bytes (\d+)-/.exec(r.ContentRange ?? '');
    const servedFrom = served ? Number(served[1]) : 0;
    if (servedFrom > pos) {
      body.destroy();
      throw new SbError('INPUT_FAILED', `cannot read ${this.url}: asked for bytes from ${pos}, the store sent bytes from ${servedFrom}`);
    }
    return { body, servedFrom, servedTo: servedFrom + (r.ContentLength ?? st.bytes) };
  }
}

// A source for the object at `url` (nothing is asked of the store until it is read).
export function openS3Source(store: S3Store, url: string, o?: S3SourceOptions): S3Source {
  return new S3Source(store, url, o);
}
