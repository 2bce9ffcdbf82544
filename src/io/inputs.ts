// input.path (file, directory, glob or a list of them) → the sorted, de-duplicated list of inputs, listed by
// the storage backend of each pattern. A directory's files are inputs when their name says a format (any
// name when input.format is set).
import { SbError } from '../errors.js';
import { resolveJobPath } from '../job/config.js';
import { listInputs, type Listed } from '../storage/backends.js';
import { formatOf } from './formats.js';

export type InputFile = Listed;

// Resolve every pattern; `explicitFormat` admits files of any extension found in a directory.
export function resolveInputs(patterns: string[], explicitFormat?: string): Promise<InputFile[]> {
  return listInputs(patterns, { keep: explicitFormat ? undefined : (f) => formatOf(f) !== undefined });
}

// The job's inputs: input.path's patterns, or the one `--input` names instead (`option`, from the working
// directory), whose failure to be listed points at the option.
export async function resolveJobInputs(input: { patterns: string[]; format?: string }, option?: string): Promise<InputFile[]> {
  if (option === undefined) return resolveInputs(input.patterns, input.format);
  try {
    return await resolveInputs([resolveJobPath(process.cwd(), option)], input.format);
  } catch (err) {
    if (!(err instanceof SbError) || err.context.yamlPath !== 'input.path') throw err;
    const { yamlPath: _, ...context } = err.context;
    throw new SbError(err.code, `${err.message} (given by --input)`, context, { cause: err });
  }
}
