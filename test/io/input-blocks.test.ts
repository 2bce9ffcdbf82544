import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawn } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SbError } from '../../src/errors.js';
import { readCsv } from '../../src/io/csv-reader.js';
import { inputBlocks } from '../../src/io/input-blocks.js';
import { openSource } from '../../src/storage/source.js';
import { makeFifo } from '../support/streams.js';
import { tempDir } from '../support/temp-dir.js';

async function readAll(file: string) {
  const s = inputBlocks(openSource(file, 'shown'));
  const parts: Uint8Array[] = [];
  for await (const b of s.blocks) parts.push(b);
  return { text: Buffer.concat(parts).toString('utf8'), bytes: s.bytesRead, sha256: s.sha256(), gzip: s.gzip };
}

async function readError(file: string): Promise<SbError> {
  try {
    await readAll(file);
  } catch (err) {
    expect(err).toBeInstanceOf(SbError);
    return err as SbError;
  }
  throw new Error('expected a failure');
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// File descriptors of this process open on `file` (Linux: /proc/self/fd).
const fdsOn = (file: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  });

describe('openSource', () => {
  const text = 'a,b\n1,2\n'.repeat(50_000);

  it('a FIFO whose writer sends one byte first: the bytes as written (the first block is kept apart from the reused buffer)', async () => {
    const d = tempDir();
    const fifo = makeFifo(path.join(d, 'in.csv'));
    const writer = spawn('sh', ['-c', `exec > "$1"; printf 'x'; sleep 0.3; printf '1,x2\\n1,1\\n'`, 'sh', fifo], { stdio: 'ignore' });
    onTestFinished(() => void writer.kill());
    const s = inputBlocks(openSource(fifo, 'in.csv'));
    const parts: Buffer[] = [];
    for await (const b of s.blocks) parts.push(Buffer.from(b));
    expect(Buffer.concat(parts).toString()).toBe('x1,x2\n1,1\n');
  });

  it('reads plain files as they are', async () => {
    const d = tempDir();
    const f = path.join(d, 'x.csv');
    writeFileSync(f, text);
    expect(await readAll(f)).toEqual({ text, bytes: text.length, sha256: sha(Buffer.from(text)), gzip: false });
  });

  it('decompresses gzip by its magic bytes, whatever the name; counts and hashes the stored bytes', async () => {
    const d = tempDir();
    const gz = gzipSync(text);
    for (const name of ['x.csv.gz', 'x.csv', 'x.gzip']) {
      const f = path.join(d, name);
      writeFileSync(f, gz);
      expect(await readAll(f)).toEqual({ text, bytes: gz.length, sha256: sha(gz), gzip: true });
    }
  });

  it('reads concatenated gzip members as one stream', async () => {
    const d = tempDir();
    const f = path.join(d, 'x.jsonl.gz');
    writeFileSync(f, Buffer.concat([gzipSync('{"a": 1}\n'), gzipSync('{"a": 2}\n')]));
    expect((await readAll(f)).text).toBe('{"a": 1}\n{"a": 2}\n');
  });

  it('fails in one line on a .gz name over plain bytes, an empty .gz, corrupt or truncated gzip', async () => {
    const d = tempDir();
    const put = (name: string, b: Buffer | string) => {
      writeFileSync(path.join(d, name), b);
      return path.join(d, name);
    };
    const gz = gzipSync(text);
    expect((await readError(put('plain.csv.gz', 'a,b\n'))).message).toBe('the name ends in .gz but the file is not gzip data (it does not start with the bytes 1f 8b)');
    expect((await readError(put('empty.csv.gz', ''))).message).toBe('the file is empty, not gzip data');
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 20, 60);
    expect((await readError(put('corrupt.csv.gz', corrupt))).message).toMatch(/^the gzip data is corrupt \(.+\)$/);
    const e = await readError(put('short.csv.gz', gz.subarray(0, gz.length >> 1)));
    expect(e.message).toBe('the gzip data ends early: the file is truncated');
    expect(e.context.file).toBe('shown');
  });

  it('stops early without leaking: the file is closed, the sha256 is then unknown', async () => {
    const d = tempDir();
    const f = path.join(d, 'x.csv.gz');
    // Incompressible, so the gzip file is several blocks: `text` compresses to one block, which the reader may
    // have read (and hashed) whole before the consumer stops, depending on timing.
    writeFileSync(f, gzipSync(randomBytes(4 << 20)));
    const s = inputBlocks(openSource(f, f));
    for await (const _ of s.blocks) {
      expect(fdsOn(f)).toHaveLength(1);
      break;
    }
    expect(s.sha256()).toBeUndefined();
    // Closed by the gunzip pipeline as it is torn down, a few turns of the event loop later.
    for (let turns = 0; turns < 1000 && fdsOn(f).length > 0; turns++) await new Promise((resolve) => setImmediate(resolve));
    expect(fdsOn(f)).toEqual([]);
  });

  it('closes the file when the consumer stops at the first block of a plain file (a reader failing at the header)', async () => {
    const d = tempDir();
    for (const [name, bytes] of [['one-block.csv', 'a,b\n1,2\n'], ['blocks.csv', text.repeat(3)]]) {
      const f = path.join(d, name);
      writeFileSync(f, bytes);
      const s = inputBlocks(openSource(f, f));
      for await (const _ of s.blocks) {
        expect(fdsOn(f)).toHaveLength(1);
        break;
      }
      expect(fdsOn(f), name).toEqual([]);
    }
  });

  it('closes the file whenever its consumer stops early: after the first block, the gzip head, a limit, a header error', async () => {
    const d = tempDir();
    const plain = path.join(d, 'plain.csv');
    writeFileSync(plain, 'a,b\n1,2\n'.repeat(300_000));
    const small = path.join(d, 'small.csv');
    writeFileSync(small, 'a,b\n1,2\n');
    const gz = path.join(d, 'x.csv.gz');
    writeFileSync(gz, gzipSync(randomBytes(4 << 20)));
    const noColumn = path.join(d, 'no-column.csv');
    writeFileSync(noColumn, 'x,y\n1,2\n');
    const stopAfterFirst = async (f: string) => {
      for await (const _ of inputBlocks(openSource(f, f)).blocks) break;
    };
    const csvOptions = { delimiter: ',', quote: '"', header: true, encoding: 'utf8' as const, relaxQuotes: false };
    const firstRows = async (f: string, limit: number) => {
      for await (const _ of readCsv(inputBlocks(openSource(f, f)).blocks, csvOptions, { file: f, needs: [], batchSize: limit, limit }));
    };
    const needsColumnA = async (f: string) => {
      await expect(async () => {
        for await (const _ of readCsv(inputBlocks(openSource(f, f)).blocks, csvOptions, { file: f, needs: [{ name: 'a', number: true, text: false }], batchSize: 10 }));
      }).rejects.toThrow(/column 'a'/);
    };
    await stopAfterFirst(plain);
    await stopAfterFirst(small);
    await stopAfterFirst(gz);
    await firstRows(plain, 5);
    await needsColumnA(noColumn);
    expect(openFds([plain, small, gz, noColumn])).toEqual([]);
  });
});

// This process's descriptors open on any of `files`.
function openFds(files: string[]): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (files.includes(target)) open.push(`${fd} → ${target}`);
    } catch {
      // closed while listing (the listing's own descriptor)
    }
  }
  return open;
}
