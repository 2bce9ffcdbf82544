// Which file each input's results (and rejects) go to: output templates rendered per input, or one combined
// file. Collisions (two inputs → one file, a result over an input) are found before anything runs.
import path from 'node:path';
import { SbError } from '../errors.js';
import type { JobConfig, TextFormat } from '../job/config.js';
import { isPerInput, render, stemOf, type TokenValues } from '../job/template.js';
import { formatOf, formatProblem, isGzipName } from '../io/formats.js';
import { displayPath } from '../util/display.js';
import type { InputFile } from '../io/inputs.js';
import { shardTag, type Piece, type ShardPlan, type ShardSpec } from './shards.js';

export interface Target {
  input: InputFile;
  /** Sharded runs: the part of the file this target scores (its range is absent for a whole file). */
  piece?: Piece;
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


// The format of an input: input.format, else its name (stdin: the job's own input pattern, else CSV).
export function formatFor(job: JobConfig, file: string): TextFormat {
  const format = job.input.format ?? (file === '-' ? (formatOf(job.input.patterns[0]) ?? 'csv') : formatOf(file));
  if (!format) {
    const problem = formatProblem(file);
    if (problem) throw new SbError('USAGE', `${displayPath(file)}: ${problem}`, { yamlPath: 'input.path' });
    throw new SbError('USAGE', `cannot tell the format of ${displayPath(file)} from its name: set input.format (csv, tsv, jsonl or parquet)`, { yamlPath: 'input.format' });
  }
  return format;
}

// Token values for one input.
// `{shard}` is the worker's index in a sharded run, and `all` otherwise: an unsharded run and `merge`
// write the same combined file.
export function tokenValues(job: JobConfig, runId: string, at: Date, shard?: ShardSpec): TokenValues {
  const zone = job.schedule?.timezone;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { job: job.name, run_id: runId, date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}${parts.minute}${parts.second}`, shard: shard ? shardTag(shard) : 'all' };
}

export function inputTokens(tokens: TokenValues, file: string): TokenValues {
  return { ...tokens, input_stem: stemOf(file === '-' ? 'stdin' : file), input_name: path.basename(file === '-' ? 'stdin' : file) };
}

// `allInputs`: in a sharded run, every input of the listing (none may be overwritten), not only this shard's.
export function planTargets(job: JobConfig, inputs: (InputFile & { piece?: Piece })[], tokens: TokenValues, outputTemplate: string, outputFormat?: TextFormat, allInputs?: string[]): TargetPlan {
  const perInput = isPerInput(outputTemplate) && outputTemplate !== '-';
  const rejectsPerInput = job.errors.rejects !== undefined && isPerInput(job.errors.rejects);
  const targets = inputs.map(({ piece, ...input }): Target => {
    const values = inputTokens(tokens, input.path);
    return {
      input,
      ...(piece ? { piece } : {}),
      display: displayPath(input.path),
      format: formatFor(job, input.path),
      output: outputTemplate === '-' ? '-' : render(outputTemplate, values),
      rejects: job.errors.rejects ? render(job.errors.rejects, rejectsPerInput ? values : { ...tokens }) : undefined,
    };
  });
  const seen = new Map<string, string>();
  const inputPaths = new Set((allInputs ?? inputs.map((i) => i.path)).filter((p) => p !== '-'));
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

// Sharded runs: every worker must write its own files. Renders the templates for every shard of the plan
// (with this worker's other tokens) and fails when two workers would write the same result or rejects file.
export function checkShardTargets(job: JobConfig, plan: ShardPlan, tokens: TokenValues, outputTemplate: string): void {
  const check = (template: string | undefined, yamlPath: string) => {
    if (!template || plan.count === 1) return;
    const perInput = isPerInput(template);
    const owner = new Map<string, { shard: number; input: string }>();
    plan.shards.forEach((pieces, shard) => {
      for (const p of pieces) {
        const values = { ...(perInput ? inputTokens(tokens, p.path) : tokens), shard: shardTag({ index: shard, count: plan.count }) };
        const file = render(template, values);
        const other = owner.get(file);
        if (other && other.shard !== shard) {
          const what = perInput ? `${displayPath(p.path)} is split between workers ${other.shard} and ${shard}, which` : `workers ${other.shard} and ${shard}`;
          throw new SbError('OUTPUT_INVALID', `${what} would both write ${displayPath(file)}: put {shard} in ${yamlPath}, e.g. ${withShard(template)}`, { yamlPath });
        }
        owner.set(file, { shard, input: p.path });
      }
    });
  };
  check(outputTemplate, 'output.path');
  check(job.errors.rejects, 'errors.rejects');
}

// A template with `-{shard}` before the file's format extension: out/result.csv.gz → out/result-{shard}.csv.gz.
function withShard(template: string): string {
  const shown = displayPath(template);
  const m = /(\.(csv|tsv|tab|jsonl|ndjson|parquet|pq)(\.gz|\.gzip)?)$/i.exec(shown);
  return m ? `${shown.slice(0, m.index)}-{shard}${m[1]}` : `${shown}-{shard}`;
}
