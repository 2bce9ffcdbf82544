// Objects as byte sources against a real S3 server: identity from HEAD, streamed blocks with bounded memory,
// explicit ranged reads, an object rewritten while read, and a body cut off mid-way read on from where it stopped.
import { createHash, randomBytes } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SbError } from '../../../src/errors.js';
import { openS3Store, type S3Store } from '../../../src/storage/s3/client.js';
import { openS3Source } from '../../../src/storage/s3/source.js';
import { s3Proxy, setEnv, startS3Server, type S3TestServer } from '../../support/s3-server.js';

let server: S3TestServer;
let store: S3Store;
let restoreEnv: () => void;
const BIG = 40 << 20;
let big: Buffer;
const small = Buffer.from('hello world 0123456789');

beforeAll(async () => {
  server = await startS3Server();
  restoreEnv = setEnv(server.env());
  store = openS3Store();
  await server.bucket('data');
  big = randomBytes(BIG);
  await server.put('data', 'big.bin', big);
  await server.put('data', 'small.txt', small);
  await server.put('data', 'empty.csv', '');
});

afterAll(async () => {
  store?.close();
  restoreEnv?.();
  await server?.stop();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('S3Source.stat', () => {
  it('gives bucket, key, ETag, size and last-modified from HEAD', async () => {
    const st = await openS3Source(store, 's3://data/small.txt').stat();
    expect(st).toMatchObject({ bucket: 'data', key: 'small.txt', bytes: small.length });
    expect(st.etag).toBe(`"${createHash('md5').update(small).digest('hex')}"`);
    expect(st.versionId).toBeUndefined();
    expect(st.lastModified).toBeInstanceOf(Date);
  });

  it('changes its ETag when the object is rewritten, and not when it is left alone', async () => {
    await server.put('data', 'rewritten.csv', 'a\n1\n');
    const first = await openS3Source(store, 's3://data/rewritten.csv').stat();
    expect((await openS3Source(store, 's3://data/rewritten.csv').stat()).etag).toBe(first.etag);
    await server.put('data', 'rewritten.csv', 'a\n2\n');
    const second = await openS3Source(store, 's3://data/rewritten.csv').stat();
    expect(second.etag).not.toBe(first.etag);
    expect(second.bytes).toBe(first.bytes);
  });

  it('an object that does not exist fails the input (INPUT_FAILED), naming its URL', async () => {
    const err = await openS3Source(store, 's3://data/gone.csv').stat().catch((e: unknown) => e as SbError);
    expect(err).toBeInstanceOf(SbError);
    expect((err as SbError).code).toBe('INPUT_FAILED');
    expect((err as SbError).message).toBe(`cannot read s3://data/gone.csv: no such object at ${server.endpoint}`);
  });
});

describe('S3Source.open', () => {
  it('streams a multi-MB object in blocks of one reused buffer, never the whole object at once', async () => {
    const src = openS3Source(store, 's3://data/big.bin');
    const hash = createHash('sha256');
    const buffers = new Set<ArrayBufferLike>();
    let total = 0;
    let largest = 0;
    for await (const block of src.open()) {
      hash.update(block);
      buffers.add(block.buffer);
      total += block.length;
      largest = Math.max(largest, block.length);
    }
    expect(total).toBe(BIG);
    expect(hash.digest('hex')).toBe(sha(big));
    expect(largest).toBe(1 << 20);
    expect(buffers.size).toBe(1);
  });

  it('holds a bounded amount while it reads a 40 MB object, far from the object (memory measured after collections)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let n = 0;
    for await (const block of openS3Source(store, 's3://data/big.bin').open()) {
      expect(block.length).toBeGreaterThan(0);
      if (++n % 4 === 0) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
        gc();
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
      }
    }
    expect(n).toBe(40);
    expect(peak).toBeLessThan(16 << 20);
  });

  it('reads bytes [start, end) only, across block boundaries', async () => {
    const start = (1 << 20) - 5;
    const end = 3 * (1 << 20) + 7;
    const parts: Buffer[] = [];
    for await (const block of openS3Source(store, 's3://data/big.bin').open({ start, end })) parts.push(Buffer.from(block));
    expect(Buffer.concat(parts).equals(big.subarray(start, end))).toBe(true);
  });

  it('an empty object is no blocks', async () => {
    const blocks: Uint8Array[] = [];
    for await (const b of openS3Source(store, 's3://data/empty.csv').open()) blocks.push(b);
    expect(blocks).toEqual([]);
  });

  it('a consumer that stops early leaves the store usable (the body is closed)', async () => {
    for (let i = 0; i < 20; i++) {
      for await (const block of openS3Source(store, 's3://data/big.bin').open()) {
        expect(block.length).toBe(1 << 20);
        break;
      }
    }
    expect(Buffer.from(await openS3Source(store, 's3://data/small.txt').readAt(0, 5)).toString()).toBe('hello');
  });

  it('an object rewritten between HEAD and GET fails the input instead of mixing versions', async () => {
    await server.put('data', 'moving.csv', 'a\n1\n');
    const src = openS3Source(store, 's3://data/moving.csv');
    await src.stat();
    await server.put('data', 'moving.csv', 'a\n1\n2\n');
    const err = await (async () => {
      for await (const _ of src.open()) void _;
    })().catch((e: unknown) => e as SbError);
    expect(err).toBeInstanceOf(SbError);
    expect((err as SbError).code).toBe('INPUT_FAILED');
    expect((err as SbError).message).toBe('cannot read s3://data/moving.csv: the object changed while it was being read; run again to read the new version');
  });
});

describe('S3Source.readAt', () => {
  it('returns exactly the bytes asked for, from anywhere in the object', async () => {
    const src = openS3Source(store, 's3://data/big.bin');
    const size = (await src.stat()).bytes;
    for (const [a, b] of [[0, 8], [size - 8, size], [12345, 12345 + 70000], [5 << 20, 9 << 20]]) {
      expect(Buffer.from(await src.readAt(a, b)).equals(big.subarray(a, b))).toBe(true);
    }
  });

  it('reads the first byte alone although the server sends the whole object for bytes=0-0', async () => {
    const src = openS3Source(store, 's3://data/small.txt');
    expect(Buffer.from(await src.readAt(0, 1)).toString()).toBe('h');
    expect(Buffer.from(await src.readAt(21, 22)).toString()).toBe('9');
  });

  it('reads the last bytes with an explicit range from the size HEAD gave (no suffix range)', async () => {
    const src = openS3Source(store, 's3://data/small.txt');
    const { bytes } = await src.stat();
    expect(Buffer.from(await src.readAt(bytes - 4, bytes)).toString()).toBe('6789');
  });

  it('clips a range past the end to the object, and an empty range is no bytes', async () => {
    const src = openS3Source(store, 's3://data/small.txt');
    expect(Buffer.from(await src.readAt(18, 100)).toString()).toBe('6789');
    expect((await src.readAt(5, 5)).length).toBe(0);
  });
});

describe('S3Source: what goes over the wire', () => {
  it('only explicit ranges, never a suffix range, whatever is read', async () => {
    const p = await s3Proxy(server.port);
    const via = openS3Store({ endpoint: `http://127.0.0.1:${p.port}` });
    try {
      const src = openS3Source(via, 's3://data/small.txt');
      const { bytes } = await src.stat();
      await src.readAt(bytes - 8, bytes);
      await src.readAt(0, 1);
      for await (const b of src.open({ start: 3, end: bytes })) expect(b.length).toBe(bytes - 3);
      const ranges = [...p.requests().matchAll(/^range: (.*)\r$/gim)].map((m) => m[1]);
      expect(ranges).toEqual([`bytes=${bytes - 8}-${bytes - 1}`, 'bytes=0-0', `bytes=3-${bytes - 1}`]);
    } finally {
      via.close();
      await p.close();
    }
  });
});

describe('S3Source: a body cut off mid-way', () => {
  it('is read on from where it stopped, and the bytes are the object', async () => {
    const p = await s3Proxy(server.port, 3 << 20);
    const cut = openS3Store({ endpoint: `http://127.0.0.1:${p.port}` });
    try {
      const hash = createHash('sha256');
      let total = 0;
      for await (const block of openS3Source(cut, 's3://data/big.bin').open()) {
        hash.update(block);
        total += block.length;
      }
      expect(p.cuts()).toBe(1);
      expect(total).toBe(BIG);
      expect(hash.digest('hex')).toBe(sha(big));
    } finally {
      cut.close();
      await p.close();
    }
  });
});
