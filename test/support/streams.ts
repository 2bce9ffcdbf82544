// Real stream outputs for tests: a character device and a FIFO with a reader process.
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';

// A character device to write to: the null device (1, 3) made in `dir`, so that a broken build replaces this
// copy, not the machine's /dev/null. Without the right to make devices, /dev/null itself, which such a
// process cannot replace either.
export function nullDevice(dir: string): string {
  const dev = path.join(dir, 'null');
  try {
    execFileSync('mknod', [dev, 'c', '1', '3'], { stdio: 'ignore' });
    return dev;
  } catch {
    return '/dev/null';
  }
}

// A new FIFO at `file`.
export function makeFifo(file: string): string {
  execFileSync('mkfifo', [file]);
  return file;
}

// A process reading `fifo` to its end (started now, or after `delayMs`); resolves with every byte it read.
export function fifoReader(fifo: string, delayMs = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    setTimeout(() => {
      const child = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
      const parts: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => parts.push(d));
      child.on('error', reject);
      child.on('close', () => resolve(Buffer.concat(parts)));
    }, delayMs);
  });
}
