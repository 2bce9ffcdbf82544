// input.path (file, directory, glob or a list of them) → the sorted, de-duplicated list of inputs, listed by
// the storage backend of each pattern. A directory's files are inputs when their name says a format (any
// name when input.format is set).
import { SbError } from '../errors.js';
import { listInputs, type Listed } from '../storage/backends.js';
import { formatOf } from './formats.js';

export type InputFile = Listed;

// Resolve every pattern; `explicitFormat` admits files of any extension found in a directory.
export function resolveInputs(patterns: string[], explicitFormat?: string): Promise<InputFile[]> {
  return listInputs(patterns, { keep: explicitFormat ? undefined : (f) => formatOf(f) !== undefined });
}

// The inputs `--input` names instead of the job's input.path: a failure to list them points at the option.
export async function resolveInputOption(pattern: string, explicitFormat?: string): Promise<InputFile[]> {
  try {
    return await resolveInputs([pattern], explicitFormat);
  } catch (err) {
    if (!(err instanceof SbError) || err.context.yamlPath !== 'input.path') throw err;
    const { yamlPath: _, ...context } = err.context;
    throw new SbError(err.code, `${err.message} (given by --input)`, context, { cause: err });
  }
}
