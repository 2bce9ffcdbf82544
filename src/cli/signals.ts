// SIGINT, SIGTERM and SIGHUP (the terminal closed) during a run: stop at the next chunk, drop temporary
// files, release the lock, write the record and exit 130 (SIGINT) or 143. A model call or a read that has not
// come back STOP_GRACE_MS after the signal is given up on (util/abandon.ts); the process then ends by the
// signal's default action once everything is cleaned up. A second signal ends the process at once
// (temporary files are then removed by the next run).
import { endBySignal } from '../util/abandon.js';

const STOPPING = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

// Run `work` with an AbortSignal whose reason is the signal's name.
export async function withSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) endBySignal(sig === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
    received = sig;
    controller.abort(sig);
  };
  for (const sig of STOPPING) process.on(sig, onSignal);
  try {
    return await work(controller.signal);
  } finally {
    for (const sig of STOPPING) process.off(sig, onSignal);
  }
}

// How the process ends with `code` when work it gave up on is still running (it cannot exit normally then):
// by SIGINT after SIGINT, by SIGTERM otherwise.
export function endSignalFor(code: number): 'SIGINT' | 'SIGTERM' {
  return code === 130 ? 'SIGINT' : 'SIGTERM';
}

// The exit code for several jobs: invalid beats failed beats interrupted beats a closed output (141) beats
// skipped beats completed with alerts (4) beats ok.
export function worstExitCode(codes: number[]): number {
  for (const c of [2, 1, 143, 130, 141, 3, 4]) if (codes.includes(c)) return c;
  return 0;
}
