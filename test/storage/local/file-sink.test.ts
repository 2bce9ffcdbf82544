import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { armFailpoint } from '../../../src/storage/failpoint.js';
import { openAtomic } from '../../../src/storage/local/file-sink.js';
import { isAlive } from '../../../src/util/process.js';
import { failure } from '../../support/failure.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sb-atomic-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ls = (d = dir) => readdirSync(d).sort();
const temps = (d = dir) => ls(d).filter((n) => n.endsWith('.sb-tmp'));

// A pid that certainly belongs to no running process: a child that has exited and been reaped.
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  expect(r.status).toBe(0);
  expect(isAlive(r.pid as number)).toBe(false);
  return r.pid as number;
}

describe('openAtomic: commit', () => {
  it('nothing is visible under the final name before commit; the whole content after', async () => {
    const file = path.join(dir, 'out.csv');
    const sink = await openAtomic(file);
    expect(sink.target).toBe(file);
    await sink.write('a,b\n');
    await sink.write(Buffer.from('1,2\n'));
    expect(existsSync(file)).toBe(false);
    // the bytes go to one hidden temp file next to the target, named with our pid
    const [temp] = temps();
    expect(temp).toMatch(new RegExp(`^\\.out\\.csv\\.${process.pid}\\.[0-9a-f]{8}\\.sb-tmp$`));
    await sink.commit();
    expect(readFileSync(file, 'utf8')).toBe('a,b\n1,2\n');
    expect(ls()).toEqual(['out.csv']);
  });

  it('an existing file is replaced only at commit', async () => {
    const file = path.join(dir, 'out.csv');
    writeFileSync(file, 'old\n');
    const sink = await openAtomic(file);
    await sink.write('new\n');
    expect(readFileSync(file, 'utf8')).toBe('old\n');
    await sink.commit();
    expect(readFileSync(file, 'utf8')).toBe('new\n');
  });

  it('creates missing parent directories', async () => {
    const file = path.join(dir, 'a', 'b', 'c', 'out.csv');
    const sink = await openAtomic(file);
    await sink.write('x');
    await sink.commit();
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('an empty commit gives an empty file', async () => {
    const file = path.join(dir, 'empty.csv');
    const sink = await openAtomic(file);
    await sink.commit();
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('large writes (past the internal buffer) arrive whole and in order', async () => {
    const file = path.join(dir, 'big.csv');
    const sink = await openAtomic(file);
    const line = 'x'.repeat(999) + '\n';
    const parts: string[] = [];
    for (let i = 0; i < 3000; i++) parts.push(`${i}` + line);
    for (const s of parts) await sink.write(s);
    await sink.commit();
    expect(readFileSync(file, 'utf8')).toBe(parts.join(''));
  });

  it('a big write after small ones lands after them (mixed sizes keep their order)', async () => {
    const file = path.join(dir, 'mixed.csv');
    const sink = await openAtomic(file);
    const big = Buffer.alloc(700_000, 'b');
    await sink.write('header\n');
    await sink.write(big);
    await sink.write('tail\n');
    await sink.commit();
    expect(readFileSync(file).equals(Buffer.concat([Buffer.from('header\n'), big, Buffer.from('tail\n')]))).toBe(true);
  });

  it('multi-byte text is written as UTF-8', async () => {
    const file = path.join(dir, 'u.csv');
    const sink = await openAtomic(file);
    await sink.write('é😀\n');
    await sink.commit();
    expect(readFileSync(file)).toEqual(Buffer.from('é😀\n'));
  });

  it('two sinks for the same file do not share a temp file; the last commit wins', async () => {
    const file = path.join(dir, 'out.csv');
    const a = await openAtomic(file);
    const b = await openAtomic(file);
    await a.write('A');
    await b.write('B');
    expect(temps()).toHaveLength(2);
    await a.commit();
    await b.commit();
    expect(readFileSync(file, 'utf8')).toBe('B');
    expect(ls()).toEqual(['out.csv']);
  });

  it('a directory in the way is refused at open; one that appears before commit fails it with WRITE_FAILED and leaves no temp', async () => {
    const file = path.join(dir, 'out.csv');
    mkdirSync(path.join(dir, 'a-dir'));
    expect((await failure(openAtomic(path.join(dir, 'a-dir')))).message).toBe(`cannot write ${path.join(dir, 'a-dir')}: it is a directory: give a file name`);
    const sink = await openAtomic(file);
    mkdirSync(file);
    await sink.write('x');
    const err = await failure(sink.commit());
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.message).toBe(`cannot write ${file}: a directory of that name is in the way`);
    expect(temps()).toEqual([]);
  });
});

describe('openAtomic: abort, mark and rollback', () => {
  it('abort leaves nothing: no final file, no temp', async () => {
    const file = path.join(dir, 'out.csv');
    const sink = await openAtomic(file);
    await sink.write('partial');
    await sink.abort();
    expect(ls()).toEqual([]);
  });

  it('abort keeps an existing file untouched', async () => {
    const file = path.join(dir, 'out.csv');
    writeFileSync(file, 'keep');
    const sink = await openAtomic(file);
    await sink.write('new');
    await sink.mark(); // flushed to the temp file
    await sink.abort();
    expect(ls()).toEqual(['out.csv']);
    expect(readFileSync(file, 'utf8')).toBe('keep');
  });

  it('abort twice, or after commit, is harmless', async () => {
    const file = path.join(dir, 'out.csv');
    const sink = await openAtomic(file);
    await sink.write('x');
    await sink.commit();
    await sink.abort();
    await sink.abort();
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('mark counts bytes (not characters) written so far', async () => {
    const sink = await openAtomic(path.join(dir, 'out.csv'));
    expect(await sink.mark()).toBe(0);
    await sink.write('é,1\n');
    expect(await sink.mark()).toBe(5);
    await sink.write(new Uint8Array([1, 2, 3]));
    expect(await sink.mark()).toBe(8);
    await sink.abort();
  });

  it('rollback forgets everything after the mark, flushed or still buffered', async () => {
    const file = path.join(dir, 'out.csv');
    const sink = await openAtomic(file);
    await sink.write('header\n');
    const m = await sink.mark();
    await sink.write('row1\n');
    await sink.mark(); // flushed to disk
    await sink.write('row2\n'); // still buffered
    expect(await sink.rollback(m)).toBe(true);
    expect(await sink.mark()).toBe(m);
    await sink.write('again\n');
    await sink.commit();
    expect(readFileSync(file, 'utf8')).toBe('header\nagain\n');
  });

  it('rollback to 0 empties the file', async () => {
    const file = path.join(dir, 'out.csv');
    const sink = await openAtomic(file);
    await sink.write('something\n');
    await sink.mark();
    await sink.rollback(0);
    await sink.commit();
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});

describe('openAtomic: failures', () => {
  it('a file a write failed on is never committed: the commit fails with that error and leaves the earlier file and no temp', async () => {
    const file = path.join(dir, 'out.csv');
    writeFileSync(file, 'earlier');
    const sink = await openAtomic(file);
    await sink.write('a\n');
    const disarm = armFailpoint({ name: 'write', part: 'out.csv', action: 'fail' });
    try {
      expect((await failure(sink.write('b\n'))).message).toBe(`cannot write ${file}: input/output error (failpoint)`);
    } finally {
      disarm();
    }
    // Later writes fail the same way: the file misses bytes.
    expect((await failure(sink.write('c\n'))).message).toBe(`cannot write ${file}: input/output error (failpoint)`);
    expect((await failure(sink.commit())).message).toBe(`cannot write ${file}: input/output error (failpoint)`);
    expect(readFileSync(file, 'utf8')).toBe('earlier');
    expect(temps()).toEqual([]);
  });

  it('a rollback to a mark before the failed write makes the file whole again: it commits', async () => {
    const file = path.join(dir, 'out.csv');
    const sink = await openAtomic(file);
    await sink.write('a\n');
    const mark = await sink.mark();
    const disarm = armFailpoint({ name: 'write', part: 'out.csv', action: 'fail' });
    await failure(sink.write('b\n'));
    disarm();
    await failure(sink.mark());
    expect(await sink.rollback(mark)).toBe(true);
    await sink.write('c\n');
    await sink.commit();
    expect(readFileSync(file, 'utf8')).toBe('a\nc\n');
  });

  it('a parent that is a file → WRITE_FAILED, nothing created', async () => {
    writeFileSync(path.join(dir, 'blocker'), 'x');
    const file = path.join(dir, 'blocker', 'sub', 'out.csv');
    const err = await failure(openAtomic(file));
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.message).toContain(file);
    expect(err.message).toContain('not a directory');
    expect(ls()).toEqual(['blocker']);
  });

  it.skipIf(process.getuid?.() === 0)('an unwritable directory → WRITE_FAILED (permission denied)', async () => {
    const ro = path.join(dir, 'ro');
    mkdirSync(ro, { mode: 0o555 });
    const err = await failure(openAtomic(path.join(ro, 'out.csv')));
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.message).toContain('permission denied');
  });

  it('a file name longer than the file system takes → WRITE_FAILED in words, nothing left behind', async () => {
    const file = path.join(dir, `${'x'.repeat(300)}.csv`);
    const err = await failure(openAtomic(file));
    expect([err.code, err.message]).toEqual(['WRITE_FAILED', `cannot write ${file}: the file name is too long`]);
    expect(ls()).toEqual([]);
  });
});

describe('cleaning temp files of dead processes', () => {
  it('openAtomic cleans stale temps in its directory on the way', async () => {
    const file = path.join(dir, 'out.csv');
    const stale = `.out.csv.${deadPid()}.deadbeef.sb-tmp`;
    writeFileSync(path.join(dir, stale), 'partial');
    const sink = await openAtomic(file);
    expect(ls()).not.toContain(stale);
    await sink.write('ok');
    await sink.commit();
    expect(ls()).toEqual(['out.csv']);
  });
});

describe('openAtomic in a directory with temp files of another name', () => {
  it("openAtomic removes a dead run's temp of another name in its directory (a {date} result)", async () => {
    const stale = `.2026-01-01.csv.${deadPid()}.deadbeef.sb-tmp`;
    const sub = path.join(dir, 'fresh');
    mkdirSync(sub);
    writeFileSync(path.join(sub, stale), 'partial');
    const sink = await openAtomic(path.join(sub, '2026-01-02.csv'));
    await sink.write('ok');
    await sink.commit();
    expect(ls(sub)).toEqual(['2026-01-02.csv']);
  });
});
