// Outputs that are streams, opened through the one output layer (openAtomic): a character device keeps being
// a device, a FIFO and a socket hand every byte to their reader, a descriptor is written where it points, and
// a reader that goes away is OUTPUT_CLOSED, not a crash. Real FIFOs, sockets, devices and reader processes.
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ByteSink } from '../../../src/storage/sink.js';
import { openAtomic, removeResult } from '../../../src/storage/local/file-sink.js';
import { stdioSink } from '../../../src/storage/local/stream-sink.js';
import { failure } from '../../support/failure.js';
import { fifoReader, makeFifo, nullDevice } from '../../support/streams.js';
import { tempDir } from '../../support/temp-dir.js';

const lines = (n: number) => Array.from({ length: n }, (_, i) => `row ${i},${'x'.repeat(50)}\n`).join('');

// Write about 60 MB into `sink`, more than a reader that leaves early takes.
async function flood(sink: ByteSink): Promise<void> {
  for (let i = 0; i < 1000; i++) await sink.write(lines(1000));
}

describe('openAtomic on a character device', () => {
  it('writes through it: the device stays a device, and no temporary file is left beside it', async () => {
    const d = tempDir();
    const dev = nullDevice(d);
    const sink = await openAtomic(dev);
    await sink.write(lines(1000));
    await sink.commit();
    expect(lstatSync(dev).isCharacterDevice()).toBe(true);
    expect(readdirSync(path.dirname(dev)).filter((n) => n.endsWith('.sb-tmp'))).toEqual([]);
  });

  it('removeResult leaves a device alone, and removes a stale regular file', async () => {
    const d = tempDir();
    const dev = nullDevice(d);
    writeFileSync(path.join(d, 'old.csv'), 'x');
    await removeResult(dev);
    await removeResult(path.join(d, 'old.csv'));
    expect(lstatSync(dev).isCharacterDevice()).toBe(true);
    expect(existsSync(path.join(d, 'old.csv'))).toBe(false);
  });
});

describe('openAtomic on a FIFO', () => {
  it("hands every byte to the FIFO's reader, which sees the end at commit; the FIFO stays", async () => {
    const d = tempDir();
    const fifo = path.join(d, 'results.csv');
    makeFifo(fifo);
    const text = lines(50_000); // ~2.8 MB: many times a pipe's buffer
    const read = fifoReader(fifo);
    const sink = await openAtomic(fifo);
    await sink.write(text.slice(0, 1000));
    await sink.write(Buffer.from(text.slice(1000)));
    await sink.commit();
    expect((await read).toString()).toBe(text);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('waits for a reader that comes later', async () => {
    const d = tempDir();
    const fifo = path.join(d, 'late');
    makeFifo(fifo);
    const read = fifoReader(fifo, 300);
    const sink = await openAtomic(fifo);
    await sink.write('a,b\n1,2\n');
    await sink.commit();
    expect((await read).toString()).toBe('a,b\n1,2\n');
  });

  it('a stop signal ends the wait for a reader (INTERRUPTED); a time limit says nobody read it', async () => {
    const d = tempDir();
    const fifo = path.join(d, 'nobody');
    makeFifo(fifo);
    const stop = new AbortController();
    setTimeout(() => stop.abort('SIGTERM'), 200);
    expect((await failure(openAtomic(fifo, { signal: stop.signal }))).code).toBe('INTERRUPTED');
    const late = await failure(openAtomic(fifo, { signal: AbortSignal.timeout(200) }));
    expect([late.code, late.message]).toEqual(['WRITE_FAILED', `cannot write ${fifo}: no process opened it for reading`]);
  });

  it('a reader that goes away is OUTPUT_CLOSED; a rollback is possible only when nothing was written since the mark', async () => {
    const d = tempDir();
    const fifo = path.join(d, 'short');
    makeFifo(fifo);
    const head = spawn('head', ['-c', '10', fifo], { stdio: 'ignore' });
    const headDone = new Promise((resolve) => head.on('close', resolve));
    const sink = await openAtomic(fifo);
    const mark = await sink.mark();
    expect(await sink.rollback(mark)).toBe(true);
    const err = await failure(flood(sink));
    expect([err.code, err.message]).toEqual(['OUTPUT_CLOSED', `the reader of ${fifo} closed it`]);
    expect(await sink.rollback(mark)).toBe(false);
    await sink.abort();
    await headDone;
  });
});

describe('openAtomic on a socket and on a descriptor', () => {
  it("connects to a Unix socket's listener and sends it every byte", async () => {
    const d = tempDir();
    const sock = path.join(d, 'collector.sock');
    const received = new Promise<string>((resolve) => {
      const server = net.createServer((c) => {
        let got = '';
        c.on('data', (b) => (got += b));
        c.on('end', () => {
          server.close();
          resolve(got);
        });
      });
      server.listen(sock);
    });
    await new Promise((r) => setTimeout(r, 50));
    const sink = await openAtomic(sock);
    await sink.write(lines(20_000));
    await sink.commit();
    expect(await received).toBe(lines(20_000));
  });

  it('writes through a descriptor named /dev/fd/N at its own offset (appending stays appending), then closes it', async () => {
    const d = tempDir();
    const file = path.join(d, 'log.csv');
    writeFileSync(file, 'earlier\n');
    const fd = openSync(file, 'a');
    const sink = await openAtomic(`/dev/fd/${fd}`);
    await sink.write('a,b\n1,2\n');
    await sink.commit();
    expect(readFileSync(file, 'utf8')).toBe('earlier\na,b\n1,2\n');
    expect(existsSync(`/proc/self/fd/${fd}`)).toBe(false);
  });
});

describe('stdioSink', () => {
  it("a pipe whose reader exited is OUTPUT_CLOSED from write(), not an uncaught 'error' event", async () => {
    const child = spawn('head', ['-c', '1'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const sink = stdioSink(child.stdin as unknown as NodeJS.WriteStream, '-');
    const err = await failure(flood(sink));
    expect([err.code, err.message]).toEqual(['OUTPUT_CLOSED', 'the reader of standard output closed it']);
  });
});
