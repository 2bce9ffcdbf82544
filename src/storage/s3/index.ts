// Object storage: `s3://bucket/key` inputs and results on AWS S3 and S3-compatible stores (MinIO, Cloudflare
// R2, Google Cloud Storage's XML API, Ceph), with the guarantees of local files. backend.ts serves these modules
// to the rest of serve-batch through the storage layer's backend registry (loaded on the first s3:// URL).
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
// How runs use it (backend.ts, scope.ts, run/)
// - One S3Store per run, held by the run's storage scope (opened on the first s3:// URL, closed when the run
//   ends, also on failure); the reader thread opens its own from the job's `storage.s3` settings.
// - Sources: ledger identity `ETag "…"` (+ ` version …`), bytes and Last-Modified for the record; open(range)
//   for text and shard pieces, readAt() for Parquet and shard planning.
// - Sinks: each multipart upload is noted in the run's crash journal before its first part and dropped after
//   commit() or a successful abort(); one the store will not abort stays noted, with a warning, and later runs
//   try again. rollback() answering false fails a combined result instead of committing it.
// - Locks, the ledger, records and the journal stay local (state_dir); nothing is written to the bucket besides
//   results and rejects.
export { openS3Store, type S3Options, type S3Store, type S3Tuning } from './client.js';
export { failureKind, isTransient, redact, s3Failure, type S3FailureKind, type S3Phase } from './failure.js';
export { listS3, type ListOptions, type S3Object } from './list.js';
export { abortUploads, MIN_PART_BYTES, openS3Sink, S3Sink, type AbortOutcome, type PendingUpload, type S3SinkOptions } from './sink.js';
export { openS3Source, S3Source, type ByteRange, type S3ObjectStat, type S3SourceOptions } from './source.js';
export { isS3Url, parseS3Url, s3Url, showUrl, type S3Location } from './url.js';
