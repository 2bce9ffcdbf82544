// Whole-process measurements for the bench: wall time, CPU time and peak RSS of a child process, read from
// /proc while it runs (Linux).
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';

export interface Measured {
  wall: number;
  cpu: number;
  peakRssMb: number;
  code: number | null;
  stderr: string;
}

const TICKS = 100; // USER_HZ on Linux

function sample(pid: number): { rssKb: number; cpu: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS;
    return { rssKb: hwm ? Number(hwm[1]) : 0, cpu };
  } catch {
    return undefined;
  }
}

// Run a command to completion, sampling its peak RSS and CPU time every 20 ms; `input`: a file piped to its
// standard input. The pages earlier commands wrote (a result is 60 MB) are flushed first, so that none of
// their writeback falls into this one's time.
export function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string): Promise<Measured> {
  spawnSync('sync');
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env, stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    if (input && child.stdin) {
      // A reader that stops early (a failed run) closes the pipe: that is its failure to report, not ours.
      child.stdin.on('error', () => undefined);
      createReadStream(input).pipe(child.stdin);
    }
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let peak = 0;
    let cpu = 0;
    const timer = setInterval(() => {
      const s = child.pid ? sample(child.pid) : undefined;
      if (s) {
        peak = Math.max(peak, s.rssKb);
        cpu = Math.max(cpu, s.cpu);
      }
    }, 20);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ wall: (performance.now() - started) / 1000, cpu, peakRssMb: peak / 1024, code, stderr });
    });
  });
}

// CPU seconds this process spends in `work` (all threads), and its wall time.
export async function cpuOf<T>(work: () => Promise<T>): Promise<{ result: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await work();
  const c = process.cpuUsage(c0);
  return { result, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}
