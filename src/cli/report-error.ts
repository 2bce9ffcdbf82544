// How every command reports an SbError it stops on, and the exit code that goes with it.
import { exitCodeOf, SbError } from '../errors.js';
import type { Logger } from './logger.js';

// The error's one line, or each of its problems on its own line (a job file that does not load); returns its
// exit code from the one table in errors.ts.
export function reportError(logger: Logger, err: SbError): number {
  const problems = err.context.problems;
  if (!problems) logger.log('error', 'error', err.describe());
  else for (const p of problems) logger.log('error', 'problem', p);
  return exitCodeOf(err);
}

// A model file given on the command line (inspect, init): `(at model)`, a job file's YAML path, would mislead.
export function withoutModelPath(err: SbError): SbError {
  if (err.context.yamlPath !== 'model') return err;
  return new SbError(err.code, err.message, { ...err.context, yamlPath: undefined }, { cause: err });
}
