// A process that starts a multipart upload and waits to be killed (test/storage/s3/sink.test.ts): it writes
// `parts` parts' worth of bytes (and a little more) to the URL through the built sink, prints the upload (key
// and id) the sink hands to its journal, then `sent` once the parts are on their way, and waits, never committing.
import { openS3Store } from '../../dist/src/storage/s3/client.js';
import { MIN_PART_BYTES, openS3Sink } from '../../dist/src/storage/s3/sink.js';

const [url, parts] = process.argv.slice(2);
const store = openS3Store();
const sink = openS3Sink(store, url, {
  partBytes: MIN_PART_BYTES,
  onUpload: (upload) => process.stdout.write(`${JSON.stringify({ upload })}\n`),
});
const chunk = Buffer.alloc(1 << 20, 'x');
for (let i = 0; i < Number(parts) * (MIN_PART_BYTES >> 20) + 1; i++) await sink.write(chunk);
await sink.mark();
process.stdout.write('sent\n');
setInterval(() => undefined, 60_000);
