// How a storage backend plugs in: registered for its URL scheme, it serves sources, sinks, removal and listings
// of its URLs, and the format readers and writers use it without knowing it is there. An in-memory backend
// stands in for an object store here.
import { afterAll, describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { inputBlocks } from '../../src/io/input-blocks.js';
import { resolveInputs } from '../../src/io/inputs.js';
import { openTableWriter } from '../../src/io/table-writer.js';
import { backendFor, registerBackend, type Backend } from '../../src/storage/backends.js';
import { memorySource } from '../../src/storage/memory.js';
import type { ByteSink } from '../../src/storage/sink.js';
import { openSource } from '../../src/storage/source.js';
import { localBackend } from '../../src/storage/local/backend.js';

// Objects by URL; a sink publishes its bytes on commit only (as a multipart upload completes).
const objects = new Map<string, Buffer>();
const memory: Backend = {
  scheme: 'mem',
  source: (url, display) => memorySource(objects.get(url) ?? Buffer.alloc(0), url, display),
  async sink(url) {
    let parts: Buffer[] = [];
    const sink: ByteSink = {
      target: url,
      streamed: false,
      write: async (d) => void parts.push(Buffer.from(d)),
      commit: async () => void objects.set(url, Buffer.concat(parts)),
      abort: async () => void (parts = []),
      mark: async () => Buffer.concat(parts).length,
      rollback: async (m) => {
        parts = [Buffer.concat(parts).subarray(0, m)];
        return true;
      },
    };
    return sink;
  },
  remove: async (url) => void objects.delete(url),
  list: async (patterns) =>
    [...objects.keys()]
      .filter((k) => patterns.some((p) => k.startsWith(p.replace(/\*.*$/, ''))))
      .sort()
      .map((path) => ({ path, bytes: objects.get(path)?.length })),
};
registerBackend(memory);
afterAll(() => objects.clear());

describe('storage backends', () => {
  it('a URL without a scheme is local; a registered scheme is served by its backend; an unknown one is refused in one line', () => {
    expect(backendFor('/data/in.csv')).toBe(localBackend);
    expect(backendFor('-')).toBe(localBackend);
    expect(backendFor('mem://bucket/key')).toBe(memory);
    expect(backendFor('MEM://bucket/key')).toBe(memory);
    const err = (() => {
      try {
        backendFor('ftp://host/file.csv');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SbError);
    expect((err as SbError).message).toBe('ftp://host/file.csv: serve-batch cannot read or write ftp:// URLs');
  });

  it('a result written to a registered backend is published on commit; inputs are listed and read through it', async () => {
    const names = () => ['id'];
    const w = await openTableWriter('mem://b/out.csv', { format: 'csv', floatPrecision: 6, batchSize: 10, names, fields: () => [] });
    await w.write({ rows: 2, columns: [{ name: 'id', kind: 'text', values: ['a', 'b'] }] });
    expect(objects.has('mem://b/out.csv')).toBe(false);
    await w.commit();
    expect(objects.get('mem://b/out.csv')?.toString()).toBe('id\na\nb\n');
    expect(await resolveInputs(['mem://b/*'])).toEqual([{ path: 'mem://b/out.csv', bytes: 7 }]);
    const parts: Uint8Array[] = [];
    for await (const b of inputBlocks(openSource('mem://b/out.csv', 'out.csv')).blocks) parts.push(b);
    expect(Buffer.concat(parts).toString()).toBe('id\na\nb\n');
  });
});
