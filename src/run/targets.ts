// Which file each input's results (and rejects) go to: output templates rendered per input, or one combined
// file. Collisions (two inputs → one file, a result over an input) are found before anything runs.
import path from 'node:path';
import { SbError } from '../errors.js';
import type { JobConfig, TextFormat } from '../job/config.js';
import { isPerInput, render, stemOf, type TokenValues } from '../job/template.js';
import { formatOf, formatProblem, isGzipName } from '../io/formats.js';
import { displayPath } from '../util/display.js';
import type { InputFile } from '../io/inputs.js';

export interface Target {
  input: InputFile;
  /** The input as shown in messages and in the rejects file. */
  display: string;
  format: TextFormat;
  output: string;
  rejects?: string;
}

export interface TargetPlan {
  targets: Target[];
  /** True when every input goes to one result file. */
  combined: boolean;
  outputFormat: TextFormat;
}


export function planTargets(job: JobConfig, inputs: InputFile[], tokens: TokenValues, outputTemplate: string, outputFormat?: TextFormat): TargetPlan {
  const perInput = isPerInput(outputTemplate) && outputTemplate !== '-';
  const rejectsPerInput = job.errors.rejects !== undefined && isPerInput(job.errors.rejects);
  const targets = inputs.map((input): Target => {
    const values: TokenValues = { ...tokens, input_stem: stemOf(input.path === '-' ? 'stdin' : input.path), input_name: path.basename(input.path === '-' ? 'stdin' : input.path) };
    // stdin has no name: the job's own input pattern tells the format, else CSV.
    const format = job.input.format ?? (input.path === '-' ? (formatOf(job.input.patterns[0]) ?? 'csv') : formatOf(input.path));
    if (!format) {
      const problem = formatProblem(input.path);
      if (problem) throw new SbError('USAGE', `${displayPath(input.path)}: ${problem}`, { yamlPath: 'input.path' });
      throw new SbError('USAGE', `cannot tell the format of ${displayPath(input.path)} from its name: set input.format (csv, tsv, jsonl or parquet)`, { yamlPath: 'input.format' });
    }
    return {
      input,
      display: displayPath(input.path),
      format,
      output: outputTemplate === '-' ? '-' : render(outputTemplate, values),
      rejects: job.errors.rejects ? render(job.errors.rejects, rejectsPerInput ? values : { ...tokens }) : undefined,
    };
  });
  const seen = new Map<string, string>();
  const inputPaths = new Set(inputs.map((i) => i.path).filter((p) => p !== '-'));
  for (const t of targets) {
    if (inputPaths.has(t.output) || (t.rejects && inputPaths.has(t.rejects))) {
      throw new SbError('OUTPUT_INVALID', `the result for ${t.display} would overwrite an input (${displayPath(t.output)}); write results to another directory`, { yamlPath: 'output.path' });
    }
    if (perInput && t.output !== '-') {
      const other = seen.get(t.output);
      if (other) {
        throw new SbError('OUTPUT_INVALID', `${other} and ${t.display} would both write ${displayPath(t.output)}; use {input_name} or a finer template`, { yamlPath: 'output.path' });
      }
      seen.set(t.output, t.display);
    }
  }
  const named = outputTemplate.replace(/\{[^}]*\}/g, 'x');
  const format = outputFormat ?? job.output.format ?? (outputTemplate === '-' ? 'csv' : (formatOf(named) ?? 'csv'));
  // Parquet compresses inside; a gzip around it would make a file no Parquet reader opens.
  const gzipped = targets.find((t) => t.output !== '-' && isGzipName(t.output));
  if ((format === 'parquet' && gzipped) || (!outputFormat && !job.output.format && formatProblem(named))) {
    throw new SbError('OUTPUT_INVALID', `${displayPath(gzipped?.output ?? outputTemplate)}: ${formatProblem('x.parquet.gz')}`, { yamlPath: 'output.path' });
  }
  return { targets, combined: !perInput, outputFormat: format };
}
