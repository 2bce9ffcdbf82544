// SIGINT/SIGTERM during a run: stop at the next chunk, drop temporary files, exit 130/143. A second signal
// exits at once (temporary files are then removed by the next run).

export const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

// Run `work` with an AbortSignal whose reason is the signal's name.
export async function withSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) process.exit(SIGNAL_EXIT[sig] ?? 1);
    received = sig;
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// The exit code for several jobs: invalid beats failed beats interrupted beats a closed output (141) beats
// skipped beats ok.
export function worstExitCode(codes: number[]): number {
  for (const c of [2, 1, 143, 130, 141, 3]) if (codes.includes(c)) return c;
  return 0;
}
