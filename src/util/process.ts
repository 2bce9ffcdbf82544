// Whether a process that wrote something (a lock, a temporary file, a crash journal) is still running, on
// this host. A pid alone does not say: a container restarted under the same hostname (a Kubernetes pod
// retried: an Indexed Job's pods are named `<job>-<index>`, a `docker restart`) usually gets the dead
// process's pid again, often 1; and a live process that started after the note was written got a dead
// writer's pid (pid reuse) and is not the writer. So the test is: the pid is alive, and its process started
// before the note was written.
import { readFileSync } from 'node:fs';

// Whether a process with this pid exists (on this machine).
export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Whether the process `pid` that wrote something at `writtenAt` (an ISO time, or ms since the epoch) is still
// running: a note of our own pid from before this process started was written by a dead process; so is a
// note older than the start of the live process that now has its pid.
export function processAlive(pid: number, writtenAt: string | number): boolean {
  const written = typeof writtenAt === 'number' ? writtenAt : Date.parse(writtenAt);
  if (pid === process.pid) return !(written < performance.timeOrigin);
  if (!isAlive(pid)) return false;
  const born = processStartMs(pid);
  return born === undefined || Number.isNaN(written) || born <= written + START_SLACK_MS;
}

// How much later than a note a process may seem to have started and still be its writer: the boot time in
// /proc/stat has whole seconds, and a wall clock stepped forward since the note moves every start time later.
// Linux hands out pids in increasing order and reuses one only after wrapping around at pid_max (32768 or
// more), so no real reuse falls within this.
export const START_SLACK_MS = 10_000;

// Kernel clock ticks per second in /proc (USER_HZ): 100 on every Linux architecture Node runs on.
const TICKS_PER_SECOND = 100;

// When the process `pid` started (ms since the epoch), from /proc/<pid>/stat (field 22, clock ticks after
// boot) and the boot time in /proc/stat; undefined where that cannot be read (not Linux, /proc hidden).
export function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2, the command name, is in parentheses and may hold spaces and ')': fields 3… follow the last ')'.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3]);
    const boot = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (!boot || !Number.isFinite(ticks)) return undefined;
    return Number(boot[1]) * 1000 + (ticks * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
