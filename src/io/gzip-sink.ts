// A gzip-compressing ByteSink over another sink (the atomic file). Compressed data cannot be cut at an
// arbitrary byte, but a gzip file may hold several members one after the other (RFC 1952 §2.2; gunzip,
// zcat, Python's gzip and pandas read them as one stream), so each mark() ends the current member: a
// rollback then truncates the file at a member boundary, exactly as for plain text. A combined result
// gets one member per input; a file gets at least one member, so an empty result is still valid gzip.
import { once } from 'node:events';
import { createGzip, gzipSync, type Gzip } from 'node:zlib';
import type { ByteSink } from '../storage/sink.js';

export function gzipSink(inner: ByteSink): ByteSink {
  let member: { z: Gzip; out: Buffer[]; failed?: Error } | undefined;

  const start = () => {
    const m = { z: createGzip(), out: [] as Buffer[], failed: undefined as Error | undefined };
    m.z.on('data', (b: Buffer) => m.out.push(b));
    m.z.on('error', (err) => (m.failed = err));
    member = m;
    return m;
  };
  // Move what zlib produced so far into the inner sink.
  const drain = async (m: NonNullable<typeof member>) => {
    if (m.failed) throw m.failed;
    while (m.out.length > 0) await inner.write(m.out.shift() as Buffer);
  };
  // End the open member: all its bytes reach the inner sink.
  const end = async () => {
    const m = member;
    if (!m) return;
    member = undefined;
    const ended = once(m.z, 'end');
    m.z.end();
    await ended;
    await drain(m);
  };

  return {
    target: inner.target,
    streamed: inner.streamed,
    async write(data) {
      if (data.length === 0) return;
      const m = member ?? start();
      await new Promise<void>((resolve, reject) => m.z.write(data, (err) => (err ? reject(err) : resolve())));
      await drain(m);
    },
    async mark() {
      await end();
      return inner.mark();
    },
    async rollback(mark) {
      if (member) {
        member.z.destroy();
        member = undefined;
      }
      return inner.rollback(mark);
    },
    async commit() {
      await end();
      if ((await inner.mark()) === 0) await inner.write(gzipSync(Buffer.alloc(0)));
      await inner.commit();
    },
    async abort() {
      member?.z.destroy();
      member = undefined;
      await inner.abort();
    },
  };
}
