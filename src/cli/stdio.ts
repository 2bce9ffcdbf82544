// Standard output and error closed by their reader (`| head -1`, a terminal that went away) must not crash
// the process with Node's unhandled 'error' event and its stack: writes to them then fail quietly, and the
// command that prints says so in its exit code.
import { redact } from '../util/redact.js';

// Install the listeners once per process.
export function guardStdio(): void {
  for (const stream of [process.stdout, process.stderr]) if (stream.listenerCount('error') === 0) stream.on('error', () => undefined);
}

// Write what serve-batch says (a report, a record: never result rows) to standard output, with values from the
// environment hidden; false when its reader closed it.
export function printOut(text: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (process.stdout.destroyed) return resolve(false);
    process.stdout.write(redact(text), (err) => resolve(!err));
  });
}
