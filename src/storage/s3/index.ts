// Object storage: `s3://bucket/key` inputs and results on AWS S3 and S3-compatible stores (MinIO, Cloudflare
// R2, Google Cloud Storage's XML API, Ceph), with the guarantees of local files. Not yet wired into runs.
//
// The pieces
// - url.ts     `s3://bucket/key` → { bucket, key } (key literal, as the AWS CLI reads it), back to a URL, and
//              showUrl() for any URL in a message (credentials before an '@' removed; a URL carrying them is
//              refused).
// - client.ts  openS3Store(options, tuning) → one S3Store per run: an SDK client from the job's `storage.s3`
//              block ({ endpoint, region, forcePathStyle }) and the standard AWS environment and credential
//              chain; with a custom endpoint, path-style addressing and checksums only where required; keep-alive
//              connections (16 per host), connect and idle timeouts, the SDK's standard retries (5xx,
//              throttling, resets). close() after the run.
// - list.ts    listS3(store, pattern, { accept }) → the inputs a path names, sorted: a literal key, a folder
//              (`prefix/`), or a glob over keys (picomatch with tinyglobby's options, paginated ListObjectsV2 from
//              the longest literal prefix), with the local rules for hidden names and missing paths.
// - source.ts  openS3Source(store, url) → S3Source: stat() (HEAD: ETag, VersionId, size, last-modified),
//              open(range?) (blocks of one streamed GET, bounded memory, read on after a cut-off), readAt(a, b)
//              (one explicit `bytes=a-(b-1)` GET; never a suffix range). Every GET is pinned to the version
//              stat() saw.
// - sink.ts    openS3Sink(store, url, { onUpload }) → S3Sink: write/mark/rollback/commit/abort like a local
//              atomic file; one PUT for results within 8 MiB, else a multipart upload completed at commit (the
//              object appears only then); abort() aborts the upload. abortUploads(store, uploads) for uploads a
//              killed run left, reporting those the store will not abort (s3rver answers 405).
// - failure.ts s3Failure(err, url, phase, store) → one SbError line naming the URL, the cause and what to check;
//              the code follows the phase: 'list' (before the run: PATH_NOT_FOUND or STORAGE_ACCESS, exit 2;
//              unreachable or failing store STORAGE_UNAVAILABLE, exit 1), 'read' (INPUT_FAILED), 'write'
//              (WRITE_FAILED). Credentials never appear in messages.
//
// What the integration needs to do (once storage/'s ByteSource and ByteSink land)
// - job/: accept `storage: { s3: { endpoint, region, force_path_style } }` (values through `${VAR}`), mapped to
//   S3Options; isS3Url() decides, wherever a path goes (input.path and its lists, output.path, errors.rejects,
//   --input, --output), that a path is not a local file: no path.resolve, no stat, no makeDirs. Tokens are
//   expanded in the key before parseS3Url().
// - run/: openS3Store() once per run, when any path is s3://, and close() it at the end (also on failure).
// - Inputs: resolveInputs() calls listS3(store, p, { accept: (k) => Boolean(explicitFormat || formatOf(k)) })
//   for s3:// patterns and merges the URLs with local paths (same sort, same de-duplication); S3Object.bytes is
//   InputFile.bytes.
// - ByteSource over S3Source: url/display = the URL; stat() → the ledger identity: bucket + key + ETag
//   (+ VersionId), compared as opaque strings, with bytes and lastModified for the record; open(range) for text
//   formats and shard pieces, readAt() for Parquet footers and row groups and for shard planning. The sha256
//   the record keeps is taken over open()'s blocks as for files. Blocks are reused like local ones.
// - ByteSink over S3Sink (target = URL, streamed = false): openSink() picks it for s3:// URLs. Pass onUpload
//   to write { bucket, key, uploadId } to the run's crash journal before the first part, and drop the entry
//   after commit() or a successful abort(); abort()'s AbortOutcome says whether the upload is gone (log the
//   reason as a warning when not, and keep the entry). At the start of a run, abortUploads() the journal's
//   entries and keep those it reports as not aborted. rollback() answers false when the bytes after the mark
//   already left in a part that began before it: a combined result must then be aborted, not committed.
// - Rejects and results commit in the same order as for local files; an S3 commit is CompleteMultipartUpload
//   or the PUT, so "committed" means visible to readers.
// - Locks and the ledger stay local (state_dir); nothing is written to the bucket besides results and rejects.
// - Errors: pass the phase as above; listing errors before the run exit 2 except a store that cannot be
//   reached (exit 1, retried by the scheduler); README: the exit-code table gains STORAGE_ACCESS's causes.
export { openS3Store, type S3Options, type S3Store, type S3Tuning } from './client.js';
export { failureKind, isTransient, redact, s3Failure, type S3FailureKind, type S3Phase } from './failure.js';
export { listS3, type ListOptions, type S3Object } from './list.js';
export { abortUploads, MIN_PART_BYTES, openS3Sink, S3Sink, type AbortOutcome, type PendingUpload, type S3SinkOptions } from './sink.js';
export { openS3Source, S3Source, type ByteRange, type S3ObjectStat, type S3SourceOptions } from './source.js';
export { isS3Url, parseS3Url, s3Url, showUrl, type S3Location } from './url.js';
