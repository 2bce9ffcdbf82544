// A progress bar on a TTY for long runs (rows, rows/s, elapsed); nothing when stderr is not a TTY.
import cliProgress from 'cli-progress';
import { redact } from '../util/redact.js';
import { printable } from './logger.js';

export interface Progress {
  update(p: { input: string; rows: number; bytes: number; totalBytes?: number }): void;
  stop(): void;
}

const NONE: Progress = { update: () => undefined, stop: () => undefined };

export function createProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return NONE;
  let bar: cliProgress.SingleBar | undefined;
  let current = '';
  let started = 0;
  return {
    update({ input, rows, bytes, totalBytes }) {
      if (input !== current) {
        bar?.stop();
        current = input;
        started = Date.now();
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: '{input} |{bar}| {percentage}% | {rows} rows | {rate} rows/s | {duration_formatted}',
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 20,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(totalBytes ?? 0, 0, { input: printable(redact(input)), rows: 0, rate: 0 });
      }
      const secs = (Date.now() - started) / 1000;
      bar?.update(totalBytes ? bytes : 0, { rows: rows.toLocaleString('en-US'), rate: secs > 0 ? Math.round(rows / secs).toLocaleString('en-US') : 0 });
    },
    stop() {
      bar?.stop();
      bar = undefined;
      current = '';
    },
  };
}
