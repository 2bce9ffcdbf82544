// Local sources: identity (size, mtime) for the ledger, sequential and ranged reads with the count and sha256
// taken on the way, random access for Parquet, and nothing to describe for what is not a stored file.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SbError } from '../../../src/errors.js';
import { openSource } from '../../../src/storage/source.js';
import { tempDir } from '../../support/temp-dir.js';

const text = (parts: Uint8Array[]) => Buffer.concat(parts).toString('latin1');

describe('a local file as a ByteSource', () => {
  it('stat gives the size and modification time; open reads every byte, counted and hashed', async () => {
    const f = path.join(tempDir(), 'in.csv');
    const bytes = Buffer.from('a,b\n1,2\n3,4\n');
    writeFileSync(f, bytes);
    const s = openSource(f, 'in.csv');
    expect([s.url, s.display]).toEqual([f, 'in.csv']);
    expect(await s.stat()).toEqual({ size: bytes.length, mtimeMs: statSync(f).mtimeMs });
    const stream = s.open();
    const parts: Uint8Array[] = [];
    for await (const b of stream) parts.push(Buffer.from(b));
    expect(text(parts)).toBe(bytes.toString('latin1'));
    expect(stream.bytesRead).toBe(bytes.length);
    expect(stream.sha256()).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('open(range) reads bytes [start, end) only; readAt reads any range, and close releases its handle', async () => {
    const f = path.join(tempDir(), 'in.bin');
    const bytes = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => i % 251));
    writeFileSync(f, bytes);
    const s = openSource(f, 'in.bin');
    const parts: Uint8Array[] = [];
    const stream = s.open({ start: 1000, end: (2 << 20) + 5 });
    for await (const b of stream) parts.push(Buffer.from(b));
    expect(Buffer.concat(parts).equals(bytes.subarray(1000, (2 << 20) + 5))).toBe(true);
    expect(stream.bytesRead).toBe((2 << 20) + 5 - 1000);
    expect(stream.sha256()).toBe(createHash('sha256').update(bytes.subarray(1000, (2 << 20) + 5)).digest('hex'));
    // Unhashed (a piece of a file read by several readers, whose sha256 is taken in one pass): counted only.
    const unhashed = s.open({ start: 0, end: 4096 }, { hash: false });
    let n = 0;
    for await (const b of unhashed) n += b.length;
    expect([n, unhashed.bytesRead, unhashed.sha256()]).toEqual([4096, 4096, undefined]);
    expect(Buffer.from((await s.readAt?.(10, 20)) as Uint8Array).equals(bytes.subarray(10, 20))).toBe(true);
    expect(Buffer.from((await s.readAt?.((3 << 20) - 4, 3 << 20)) as Uint8Array).equals(bytes.subarray(-4))).toBe(true);
    await s.close();
    await s.close();
  });

  it('reading past the end with readAt fails as the input (the file changed), not with an internal error', async () => {
    const f = path.join(tempDir(), 'short.bin');
    writeFileSync(f, 'abc');
    const s = openSource(f, 'short.bin');
    const err = await s.readAt?.(0, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SbError);
    expect((err as SbError).message).toBe('the file ended while it was being read (did it change?)');
    await s.close();
  });

  it('a file that is gone, or a FIFO, has nothing to describe; opening a gone file fails as the input', async () => {
    const d = tempDir();
    const gone = openSource(path.join(d, 'gone.csv'), 'gone.csv');
    expect(await gone.stat()).toBeUndefined();
    const err = await (async () => {
      for await (const _ of gone.open());
    })().catch((e: unknown) => e);
    expect((err as SbError).describe()).toBe('gone.csv: cannot read input: it disappeared before it could be read');
    const fifo = path.join(d, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await openSource(fifo, 'fifo').stat()).toBeUndefined();
  });

  it("standard input ('-') is read in order only: no stat, no random access", async () => {
    const s = openSource('-', 'standard input');
    expect(s.url).toBe('-');
    expect(s.readAt).toBeUndefined();
    expect(await s.stat()).toBeUndefined();
  });
});
