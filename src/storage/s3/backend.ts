// The object storage backend: serves `s3://bucket/key` URLs to the formats, the pipeline and the run through
// the storage interfaces. One client per run (the run's storage scope, opened on the first s3:// URL the run
// touches, closed when it ends), configured from the job's `storage.s3` block and the AWS environment. The
// AWS SDK (~150 ms to load) is loaded on that first use: runs on local files never load it.
//
// - Sources: an object's identity for the ledger is its URL (bucket + key) and its ETag (+ VersionId when
//   the bucket keeps versions), from one HEAD; text is read in streamed blocks, Parquet and shard planning by
//   explicit ranged GETs, every GET pinned to the version that HEAD saw.
// - Sinks: the object appears only at commit (one PUT, or a multipart upload completed). A multipart upload is
//   handed to the scope's hooks (the run's crash journal) before its first part and dropped when it is
//   completed or aborted; one the store will not abort (s3rver answers 405) stays noted, with a warning.
// - Listing: globs, folders and literal keys with the local rules (list.ts).
import type { Backend, Listed, ListOptions } from '../backends.js';
import type { ByteSink } from '../sink.js';
import type { ByteRange, ByteSource, SourceStat } from '../source.js';
import { storageScope, type PendingWrite, type StorageScope } from '../scope.js';
import { sourceStream } from '../stream.js';
import { SbError } from '../../errors.js';
import { parseS3Url, s3Url } from './url.js';

type S3Module = typeof import('./index.js');
type S3Store = import('./client.js').S3Store;

let loading: Promise<S3Module> | undefined;

// The S3 modules, loaded on first use.
function s3(): Promise<S3Module> {
  return (loading ??= import('./index.js'));
}

// The scope's client (made on its first use in the scope).
async function storeOf(scope: StorageScope): Promise<{ m: S3Module; store: S3Store }> {
  const m = await s3();
  const o = scope.settings.s3 ?? {};
  const store = scope.resource('s3', () => m.openS3Store({ endpoint: o.endpoint, region: o.region, forcePathStyle: o.forcePathStyle }));
  return { m, store };
}

// An object as a ByteSource: nothing is asked of the store until it is read.
function source(url: string, display: string): ByteSource {
  const scope = storageScope();
  parseS3Url(url);
  let opened: Promise<import('./source.js').S3Source> | undefined;
  const object = () => (opened ??= storeOf(scope).then(({ m, store }) => m.openS3Source(store, url)));
  async function* blocks(range?: ByteRange): AsyncGenerator<Uint8Array> {
    yield* (await object()).open(range);
  }
  return {
    url,
    display,
    async stat(): Promise<SourceStat> {
      const s = await (await object()).stat();
      return { size: s.bytes, mtimeMs: s.lastModified?.getTime() ?? 0, identity: `ETag ${s.etag}${s.versionId ? ` version ${s.versionId}` : ''}` };
    },
    open: (range, options) => sourceStream(blocks(range), (err) => (err instanceof SbError ? err : new SbError('INPUT_FAILED', `cannot read ${url}: ${(err as Error).message}`)), options),
    readAt: async (start, end) => (await object()).readAt(start, end),
    close: async () => undefined,
  };
}

// A result object: the S3 sink, its multipart upload noted in the scope's journal while it exists.
async function sink(url: string): Promise<ByteSink> {
  const scope = storageScope();
  const { m, store } = await storeOf(scope);
  const pending = (u: { bucket: string; key: string; uploadId: string }): PendingWrite => ({ url: s3Url(u), id: u.uploadId });
  const s = m.openS3Sink(store, url, { onUpload: (u) => scope.hooks.pendingStarted?.(pending(u)) });
  // After a commit or an abort: an upload that is gone leaves the journal; one that stays is said.
  const settle = async (upload: ReturnType<typeof pending> | undefined, outcome?: { aborted: boolean; reason?: string }) => {
    if (!upload) return;
    if (!s.upload) await scope.hooks.pendingEnded?.(upload);
    else if (outcome?.reason) scope.hooks.warn?.(outcome.reason);
  };
  return {
    target: s.target,
    streamed: false,
    write: (data) => s.write(data),
    mark: () => s.mark(),
    rollback: (mark) => s.rollback(mark),
    async commit() {
      const u = s.upload && pending(s.upload);
      try {
        await s.commit();
      } catch (err) {
        // The sink aborted its upload; asked again, the store says why it would not.
        await settle(u, s.upload ? await s.abort() : undefined);
        throw err;
      }
      await settle(u);
    },
    async abort() {
      const u = s.upload && pending(s.upload);
      await settle(u, await s.abort());
    },
  };
}

// Remove a result an earlier run left (a rejects object this run has no rejects for). The store keeps the
// object when the credentials may not delete it; that is said, not a failure of the run.
async function remove(url: string): Promise<void> {
  const scope = storageScope();
  const { m, store } = await storeOf(scope);
  const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
  const { bucket, key } = parseS3Url(url);
  if (!(await exists(url))) return;
  try {
    await store.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    scope.hooks.warn?.(`${m.s3Failure(err, url, 'write', store).message.replace(/^cannot write/, 'cannot remove the outdated')} (s3:DeleteObject)`);
  }
}

// Whether an object stands at `url` (a store that cannot say was already questioned by checkWritable, before).
async function exists(url: string): Promise<boolean> {
  const { store } = await storeOf(storageScope());
  const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
  const { bucket, key } = parseS3Url(url);
  return store.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

// The inputs the patterns name, sorted by URL, without duplicates.
async function list(patterns: string[], o: ListOptions): Promise<Listed[]> {
  const { m, store } = await storeOf(storageScope());
  const found = new Map<string, Listed>();
  for (const p of patterns) {
    const { bucket } = parseS3Url(p);
    const keep = o.keep;
    for (const obj of await m.listS3(store, p, { accept: keep && ((key) => keep(s3Url({ bucket, key }))) })) found.set(obj.url, { path: obj.url, bytes: obj.bytes });
  }
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// Whether a result can be written at `url`, asked before any input is read: a listing of one key under its
// folder tells a missing bucket, refused credentials, a wrong region or an unreachable store. Credentials that
// may write but not list (no s3:ListBucket) pass: the write itself will tell.
async function checkWritable(url: string): Promise<void> {
  const { m, store } = await storeOf(storageScope());
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const { bucket, key } = parseS3Url(url);
  try {
    await store.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key.slice(0, key.lastIndexOf('/') + 1) || undefined, MaxKeys: 1 }));
  } catch (err) {
    if (m.failureKind(err) === 'denied') return;
    const e = m.s3Failure(err, url, 'list', store);
    throw new SbError(e.code === 'PATH_NOT_FOUND' ? 'OUTPUT_INVALID' : e.code, e.message.replace(/^cannot list/, 'cannot write'));
  }
}

// Abort pending writes a killed run left; one outcome each, in order.
async function abandon(writes: PendingWrite[]): Promise<{ done: boolean; reason?: string }[]> {
  const { m, store } = await storeOf(storageScope());
  const uploads = writes.map((w) => ({ ...parseS3Url(w.url), uploadId: w.id }));
  return (await m.abortUploads(store, uploads)).map((o) => ({ done: o.aborted, reason: o.reason }));
}

export const s3Backend: Backend = { scheme: 's3', source, sink, remove, exists, list, checkWritable, abandon };
