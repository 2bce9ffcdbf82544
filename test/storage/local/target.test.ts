// What an output path is (a file to rename over, a stream to write through, a place no result can be) and a
// `mkdir -p` that always returns, on real paths: /proc, /sys, FIFOs, devices, descriptors, dangling links.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectTarget, makeDirs } from '../../../src/storage/local/target.js';
import { tempDir } from '../../support/temp-dir.js';

// The error a promise rejects with.
async function failure(p: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: NodeJS.ErrnoException) => e,
  );
}

describe('makeDirs', () => {
  it('creates every missing directory, and is content when they exist', async () => {
    const d = tempDir();
    await makeDirs(path.join(d, 'a/b/c'));
    await makeDirs(path.join(d, 'a/b/c'));
    await makeDirs(path.join(d, 'a/x/y'));
    expect(statSync(path.join(d, 'a/b/c')).isDirectory()).toBe(true);
    expect(statSync(path.join(d, 'a/x/y')).isDirectory()).toBe(true);
  });

  it('two callers creating the same tree at once both succeed', async () => {
    const d = tempDir();
    await Promise.all([makeDirs(path.join(d, 'p/q/r')), makeDirs(path.join(d, 'p/q/s')), makeDirs(path.join(d, 'p/q/r'))]);
    expect(statSync(path.join(d, 'p/q/s')).isDirectory()).toBe(true);
  });

  // Node's own recursive mkdir spins at 100% CPU forever on these (procfs answers ENOENT for a new entry).
  it('fails at once under /proc, and says which file system refused', { timeout: 10_000 }, async () => {
    const e = await failure(makeDirs('/proc/sb-no-such-dir/out'));
    expect(e.code).toBe('ENOENT');
    expect(e.message).toBe("cannot create the directory /proc/sb-no-such-dir: /proc is on the kernel's process file system (procfs)");
    await expect(makeDirs('/proc/self/sb-no-such-dir')).rejects.toThrow("cannot create the directory /proc/self/sb-no-such-dir: /proc/self is on the kernel's process file system (procfs)");
  });

  it('a symbolic link to nothing, or a file in the way, is an error in words', async () => {
    const d = tempDir();
    symlinkSync(path.join(d, 'gone'), path.join(d, 'dangling'));
    writeFileSync(path.join(d, 'file'), 'x');
    expect((await failure(makeDirs(path.join(d, 'dangling/out')))).message).toBe(`${path.join(d, 'dangling')} is a symbolic link to nothing`);
    expect((await failure(makeDirs(path.join(d, 'file/out')))).code).toBe('ENOTDIR');
    await expect(makeDirs(path.join(d, 'dangling/out'))).rejects.toThrow('is a symbolic link to nothing');
  });
});

describe('inspectTarget', () => {
  it('regular files and new paths are files; FIFOs, devices and sockets are streams', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'old.csv'), 'x');
    execFileSync('mkfifo', [path.join(d, 'fifo')]);
    symlinkSync(path.join(d, 'fifo'), path.join(d, 'link-to-fifo'));
    const server = net.createServer().listen(path.join(d, 'sock'));
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      expect(await inspectTarget(path.join(d, 'old.csv'))).toEqual({ kind: 'file' });
      expect(await inspectTarget(path.join(d, 'new/deeper/new.csv'))).toEqual({ kind: 'file' });
      expect(await inspectTarget(path.join(d, 'fifo'))).toEqual({ kind: 'fifo' });
      expect(await inspectTarget(path.join(d, 'link-to-fifo'))).toEqual({ kind: 'fifo' });
      expect(await inspectTarget('/dev/null')).toEqual({ kind: 'device' });
      expect(await inspectTarget(path.join(d, 'sock'))).toEqual({ kind: 'socket' });
    } finally {
      server.close();
    }
  });

  it("this process's descriptors, however they are named, are descriptors", async () => {
    const d = tempDir();
    const fd = openSync(path.join(d, 'x.csv'), 'a');
    try {
      for (const name of [`/dev/fd/${fd}`, `/proc/self/fd/${fd}`, `/proc/${process.pid}/fd/${fd}`]) expect(await inspectTarget(name)).toEqual({ kind: 'descriptor', fd });
      expect(await inspectTarget('/dev/stdout')).toEqual({ kind: 'descriptor', fd: 1 });
    } finally {
      closeSync(fd);
    }
  });

  it('refuses directories, paths under a file, dangling links and kernel file systems', async () => {
    const d = tempDir();
    mkdirSync(path.join(d, 'dir'));
    writeFileSync(path.join(d, 'file'), 'x');
    symlinkSync(path.join(d, 'gone'), path.join(d, 'dangling'));
    const why = async (p: string) => {
      const t = await inspectTarget(p);
      return t.kind === 'refused' ? t.why : t.kind;
    };
    expect(await why(path.join(d, 'dir'))).toBe('it is a directory: give a file name');
    expect(await why(path.join(d, 'file/x.csv'))).toBe(`a parent of it (${path.join(d, 'file')}) is a file, not a directory`);
    expect(await why(path.join(d, 'dangling/x.csv'))).toBe(`${path.join(d, 'dangling')} is a symbolic link to nothing`);
    expect(await why('/proc/sb-no-such-dir/x.csv')).toBe("/proc is on the kernel's process file system (procfs), where no result file can be created: give a path on a disk");
    expect(await why('/proc/self/status')).toBe("it is on the kernel's process file system (procfs), which holds no result files: give a path on a disk");
    expect(await why('/sys/kernel/x.csv')).toBe("/sys/kernel is on the kernel's sysfs, where no result file can be created: give a path on a disk");
  });
});
