// How every command reports a job file that does not load.
import type { SbError } from '../errors.js';
import type { Logger } from './logger.js';

// A job file that does not load: its headline, then every problem on its own line.
export function reportLoadError(logger: Logger, err: SbError): void {
  const problems = err.context.problems;
  if (!problems) {
    logger.log('error', 'error', err.describe());
    return;
  }
  for (const p of problems) logger.log('error', 'problem', p);
}
