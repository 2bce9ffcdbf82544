// An object written so that it appears only complete: bytes gather in a part buffer (8 MiB); a result that
// ends within the first buffer is sent with one PUT at commit; a bigger one becomes a multipart upload whose
// parts are sent while the run goes on (at most 2 in flight, so memory stays within 3 buffers) and which
// CompleteMultipartUpload turns into the object at commit. Until then readers see no object (or the earlier
// one, unchanged). abort() aborts the multipart upload, which drops its parts.
//
// A killed process cannot abort its upload: its parts stay (and are billed) until someone aborts it or a
// lifecycle rule expires it. So the upload's key and id are handed to `onUpload` as soon as the upload exists,
// before its first part is sent, for a journal that lets a later run call abortUploads() on them.
//
// mark()/rollback() work as for local files while the bytes after the mark are still here: a mark taken when
// at least 5 MiB (S3's smallest part but the last) are buffered sends them as a part ending there, so the
// mark stays a part boundary and rolling back to it drops the parts after it; a mark inside a part that was
// sent cannot be rolled back to (rollback answers false, as a stream's does).
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { SbError } from '../../errors.js';
import type { S3Store } from './client.js';
import { failureKind, redact, s3Failure } from './failure.js';
import { isDynamicPattern } from 'tinyglobby';
import { parseS3Url, s3Url, type S3Location } from './url.js';

/** An unfinished multipart upload, as a crash journal keeps it. */
export interface PendingUpload {
  bucket: string;
  key: string;
  uploadId: string;
}

export interface S3SinkOptions {
  /** Size of a part (default 8 MiB, at least S3's 5 MiB); parts double every 1,000 (S3 takes 10,000). */
  partBytes?: number;
  /** Called with the upload once it exists, before its first part is sent (awaited). */
  onUpload?: (upload: PendingUpload) => void | Promise<void>;
  contentType?: string;
}

/** What abort() did about the multipart upload (nothing to do when none was started). */
export interface AbortOutcome {
  upload?: PendingUpload;
  aborted: boolean;
  /** Why the upload could not be aborted (it stays in the store until aborted or expired). */
  reason?: string;
}

export const MIN_PART_BYTES = 5 << 20;
const PART_BYTES = 8 << 20;
const IN_FLIGHT = 2;

interface Part {
  number: number;
  /** Offset of the part's first byte in the object. */
  start: number;
  bytes: number;
  etag?: string;
}

export class S3Sink {
  readonly target: string;
  readonly streamed = false;
  private readonly loc: S3Location;
  private readonly partBytes: number;
  private buffer: Buffer;
  private buffered = 0;
  /** Offset of the buffer's first byte in the object (= bytes handed to parts). */
  private sent = 0;
  private uploadId?: string;
  private readonly parts: Part[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly cancel = new AbortController();
  private failure?: SbError;
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    private readonly store: S3Store,
    url: string,
    private readonly o: S3SinkOptions = {},
  ) {
    this.loc = parseS3Url(url);
    this.target = s3Url(this.loc);
    if (this.loc.key === '' || this.loc.key.endsWith('/')) throw new SbError('OUTPUT_INVALID', `${this.target} names a folder, not an object: give the object's key`);
    if (isDynamicPattern(this.loc.key, { caseSensitiveMatch: true })) throw new SbError('OUTPUT_INVALID', `${this.target}: an output key cannot be a glob`);
    this.partBytes = Math.max(MIN_PART_BYTES, o.partBytes ?? PART_BYTES);
    this.buffer = Buffer.allocUnsafeSlow(this.partBytes);
  }

  /** The unfinished multipart upload, if one was started and neither completed nor aborted. */
  get upload(): PendingUpload | undefined {
    return this.uploadId === undefined ? undefined : { bucket: this.loc.bucket, key: this.loc.key, uploadId: this.uploadId };
  }

  /** Once the promise resolves the sink keeps no reference to `data`. */
  async write(data: string | Uint8Array): Promise<void> {
    this.check();
    let bytes = typeof data === 'string' ? Buffer.from(data) : data;
    while (bytes.length > 0) {
      const n = Math.min(bytes.length, this.buffer.length - this.buffered);
      this.buffer.set(bytes.subarray(0, n), this.buffered);
      this.buffered += n;
      bytes = bytes.subarray(n);
      if (this.buffered === this.buffer.length) await this.ship();
    }
  }

  /** Bytes written so far. */
  async mark(): Promise<number> {
    this.check();
    if (this.buffered >= MIN_PART_BYTES) await this.ship();
    return this.sent + this.buffered;
  }

  /** Forget everything written after `mark`; false (and nothing changed) when those bytes left in a part
   *  that began before the mark. */
  async rollback(mark: number): Promise<boolean> {
    this.check();
    if (mark >= this.sent) {
      if (mark > this.sent + this.buffered) return false;
      this.buffered = mark - this.sent;
      return true;
    }
    const keep = this.parts.findIndex((p) => p.start === mark);
    if (keep === -1) return false;
    await this.settle();
    this.parts.splice(keep);
    this.sent = mark;
    this.buffered = 0;
    return true;
  }

  /** Make the object appear with every byte written. */
  async commit(): Promise<void> {
    if (this.state !== 'open') this.check();
    try {
      if (this.failure) throw this.failure;
      if (this.uploadId === undefined || this.parts.length === 0) {
        await this.abortUpload();
        await this.put();
      } else {
        if (this.buffered > 0) await this.ship();
        await this.settle();
        this.check();
        const parts: CompletedPart[] = this.parts.map((p) => ({ PartNumber: p.number, ETag: p.etag }));
        await this.store.client.send(new CompleteMultipartUploadCommand({ Bucket: this.loc.bucket, Key: this.loc.key, UploadId: this.uploadId, MultipartUpload: { Parts: parts } }));
        this.uploadId = undefined;
      }
      this.state = 'committed';
    } catch (err) {
      const failure = s3Failure(err, this.target, 'write', this.store);
      await this.abort();
      throw failure;
    } finally {
      this.release();
    }
  }

  /** Drop everything written; the object (or its absence) stays as it was. */
  async abort(): Promise<AbortOutcome> {
    if (this.state === 'committed') return { aborted: false };
    this.state = 'aborted';
    this.cancel.abort();
    await this.settle();
    this.release();
    return this.abortUpload();
  }

  private async abortUpload(): Promise<AbortOutcome> {
    const upload = this.upload;
    if (!upload) return { aborted: false };
    const [outcome] = await abortUploads(this.store, [upload]);
    if (outcome.aborted) this.uploadId = undefined;
    return outcome;
  }

  // The whole object in one PUT (it fits in the buffer).
  private async put(): Promise<void> {
    const body = this.buffer.subarray(0, this.buffered);
    await this.store.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: this.loc.key, Body: body, ContentLength: body.length, ContentType: this.o.contentType }));
  }

  // Send the buffered bytes as the next part (starting the upload first if needed), in the background; waits
  // while IN_FLIGHT parts are on their way.
  private async ship(): Promise<void> {
    if (this.uploadId === undefined) await this.create();
    while (this.inFlight.size >= IN_FLIGHT) await Promise.race(this.inFlight);
    this.check();
    const part: Part = { number: (this.parts.at(-1)?.number ?? 0) + 1, start: this.sent, bytes: this.buffered };
    if (part.number > 10_000) throw new SbError('WRITE_FAILED', `cannot write ${this.target}: the result is larger than S3's 10,000 parts`);
    this.parts.push(part);
    const body = this.buffer.subarray(0, this.buffered);
    this.sent += this.buffered;
    this.buffered = 0;
    // The buffer now belongs to the part on its way; the next bytes go to a new one (parts grow every 1,000).
    this.buffer = Buffer.allocUnsafeSlow(this.partBytes * 2 ** Math.floor(part.number / 1000));
    const sending = this.sendPart(part, body).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  private async sendPart(part: Part, body: Buffer): Promise<void> {
    try {
      const r = await this.store.client.send(
        new UploadPartCommand({ Bucket: this.loc.bucket, Key: this.loc.key, UploadId: this.uploadId, PartNumber: part.number, Body: body, ContentLength: body.length }),
        { abortSignal: this.cancel.signal },
      );
      part.etag = r.ETag;
    } catch (err) {
      this.failure ??= this.state === 'aborted' ? new SbError('WRITE_FAILED', `cannot write ${this.target}: aborted`) : s3Failure(err, this.target, 'write', this.store);
    }
  }

  private async create(): Promise<void> {
    try {
      const r = await this.store.client.send(new CreateMultipartUploadCommand({ Bucket: this.loc.bucket, Key: this.loc.key, ContentType: this.o.contentType }));
      this.uploadId = r.UploadId;
    } catch (err) {
      throw (this.failure = s3Failure(err, this.target, 'write', this.store));
    }
    await this.o.onUpload?.(this.upload!);
  }

  // Wait for every part on its way.
  private async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  private check(): void {
    if (this.state !== 'open') throw new SbError('WRITE_FAILED', `cannot write ${this.target}: it was already ${this.state}`);
    if (this.failure) throw this.failure;
  }

  private release(): void {
    this.buffer = Buffer.alloc(0);
    this.buffered = 0;
  }
}

// A sink for the object at `url` (nothing is sent until the first part is full, or commit).
export function openS3Sink(store: S3Store, url: string, o?: S3SinkOptions): S3Sink {
  return new S3Sink(store, url, o);
}

// Abort multipart uploads (a killed run's, from its journal); one outcome per upload, in order. An upload the
// store no longer knows (completed or aborted already) counts as aborted; one the store refuses to abort is
// reported with the reason, never thrown.
export async function abortUploads(store: S3Store, uploads: PendingUpload[]): Promise<AbortOutcome[]> {
  const out: AbortOutcome[] = [];
  for (const upload of uploads) {
    const url = s3Url(upload);
    try {
      await store.client.send(new AbortMultipartUploadCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: upload.uploadId }));
      out.push({ upload, aborted: true });
    } catch (err) {
      const name = (err as { name?: string }).name;
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (name === 'NoSuchUpload' || (status === 404 && failureKind(err) !== 'no-bucket')) out.push({ upload, aborted: true });
      else if (status === 405 || status === 501 || name === 'MethodNotAllowed' || name === 'NotImplemented') {
        out.push({ upload, aborted: false, reason: redact(`${url}: the store does not abort multipart uploads (HTTP ${status} ${name}); upload ${upload.uploadId} stays until a lifecycle rule or the store's own cleanup removes it`) });
      } else out.push({ upload, aborted: false, reason: s3Failure(err, url, 'write', store).message.replace(/^cannot write/, `cannot abort upload ${upload.uploadId} of`) });
    }
  }
  return out;
}
