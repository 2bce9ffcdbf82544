// Giving up on work that does not come back after a run was told to stop (a signal, a timeout): a model call
// that never returns (a thread inside ONNX Runtime cannot be interrupted) or a read that never ends (a FIFO
// that no process writes). The run then cleans up and reports without it. Such work keeps running, and a
// process with a thread inside a call that never returns cannot exit with an exit code (Node.js waits for
// its threads at exit, and for its file system calls): the command line then ends the process with a
// signal (cli/signals.ts), after everything else is done.

/** How long work may take to come back after a stop before the run gives up waiting for it. */
export const STOP_GRACE_MS = 5000;

export interface StopBound {
  /** Aborted when the run must stop. */
  signal: AbortSignal;
  /** Wait this long after the abort for the work to come back. */
  graceMs: number;
  /** The error the wait ends with when the work does not come back. */
  error: () => Error;
}

const running = new Set<{ what: string }>();

/** What this process gave up waiting for and is still running, in words. */
export function leftRunning(): string[] {
  return [...running].map((r) => r.what);
}

// `work`, or bound.error() once bound.signal has been aborted for bound.graceMs and `work` has not settled;
// `work` (described as `what`) then counts as left running until it settles.
export function unlessStopped<T>(work: Promise<T>, bound: StopBound | undefined, what: string): Promise<T> {
  if (!bound) return work;
  const { signal, graceMs } = bound;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let given: { what: string } | undefined;
    let settled = false;
    const giveUp = () => {
      if (settled) return;
      settled = true;
      given = { what };
      running.add(given);
      reject(bound.error());
    };
    const onAbort = () => {
      if (graceMs <= 0) giveUp();
      else timer = setTimeout(giveUp, graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (given) running.delete(given);
    };
    work.then(
      (value) => {
        done();
        if (!settled) resolve(value);
        settled = true;
      },
      (err: unknown) => {
        done();
        if (!settled) reject(err);
        settled = true;
      },
    );
  });
}

// End the process at once by `sig`'s default action (the shell sees 128 + its number: 130, 143): the only
// way out while a thread is inside a call that never returns, since process.exit() would wait for it.
export function endBySignal(sig: 'SIGINT' | 'SIGTERM'): void {
  process.removeAllListeners(sig);
  process.kill(process.pid, sig);
}
