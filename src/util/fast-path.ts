// SERVE_BATCH_FAST_PATH=0 makes every CSV unit go through csv-parse and every result row through
// csv-stringify (the reference paths): for diagnosing a suspected fast-path difference, and for the
// bench's bit-for-bit comparison. Results are the same either way; only speed differs.
export function fastPathEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SERVE_BATCH_FAST_PATH !== '0';
}
