// Output path templates: `{job} {input_stem} {input_name} {run_id} {date} {time} {shard}`.
import path from 'node:path';
import { didYouMean } from '../util/suggest.js';
import type { JobConfig } from './config.js';

export const TOKENS = ['job', 'input_stem', 'input_name', 'run_id', 'date', 'time', 'shard'] as const;
type Token = (typeof TOKENS)[number];
export type TokenValues = Partial<Record<Token, string>>;

const TOKEN_RE = /\{([^{}]*)\}/g;
// Templates are absolute paths in the platform's form; on Windows a value may also hold `/`.
const SEPARATOR = path.sep;
const VALUE_SEPARATORS = path.sep === '\\' ? /[\\/\0]/g : /[/\0]/g;

// The token names a template uses.
export function tokensOf(template: string): string[] {
  return [...template.matchAll(TOKEN_RE)].map((m) => m[1]);
}

// True when each input gets its own file (the template names the input).
export function isPerInput(template: string): boolean {
  return tokensOf(template).some((t) => t === 'input_stem' || t === 'input_name');
}

// Replace tokens by their values; a token without a value is left for the caller to reject. A value stays
// inside the path component it is written in, so the file lands under the template's fixed directory whatever
// the input is called: a separator in a value becomes `_`, and a component that a value makes `.`, `..` or
// empty has its dots (or its emptiness) replaced by `_` (an input named `...csv` has the stem `..`).
export function render(template: string, values: TokenValues): string {
  return template
    .split(SEPARATOR)
    .map((part) => {
      if (!part.includes('{')) return part;
      let fromValue = false;
      const out = part.replace(TOKEN_RE, (m, name: string) => {
        const v = values[name as Token];
        if (v === undefined) return m;
        fromValue = true;
        return v.replace(VALUE_SEPARATORS, '_');
      });
      if (!fromValue) return out;
      return out === '' ? '_' : out === '.' || out === '..' ? out.replace(/\./g, '_') : out;
    })
    .join(path.sep);
}

// A file name without its format extension (and a compression suffix): `a.csv.gz` → `a`,
// `sales.2024-01.csv` → `sales.2024-01`, `.hidden` → `.hidden`.
export function stemOf(file: string): string {
  const base = path.basename(file).replace(/\.(gz|gzip)$/i, '');
  const i = base.lastIndexOf('.');
  return i <= 0 ? base : base.slice(0, i);
}

// Why `template` cannot be the result of an incremental job (undefined when it can): such a job scores only
// the inputs that are new since its last run, so one combined file named the same every run would be replaced
// by those rows alone, while the ledger skips the earlier inputs for good. `{date}` and `{time}` do not make a
// name unique (two runs a day, the same time every day); `{run_id}` does.
export function incrementalProblem(template: string): string | undefined {
  if (template === '-' || isPerInput(template) || tokensOf(template).includes('run_id')) return undefined;
  return 'an incremental job scores only the inputs that are new since its last run, so a combined result with the same name every run would keep only the last run\'s rows (earlier results lost, their inputs never scored again): put {input_stem} in the name for one result per input (out/{input_stem}.csv), or {run_id} for one file per run (out/{date}-{run_id}.csv)';
}

// Why `template` cannot be the result file of a query read by watermark (undefined when it can): as for an
// incremental job, a file named the same every run would keep only the last run's rows.
export function watermarkProblem(template: string): string | undefined {
  if (template === '-' || tokensOf(template).includes('run_id')) return undefined;
  return "a query read by watermark scores only the rows that are new since its last run, so a result file with the same name every run would keep only the last run's rows: put {run_id} in output.path (out/{date}-{run_id}.csv), or write a table (output.database)";
}

// Why `template` cannot be an incremental job's rejects file (undefined when it can): one rejects file named the
// same every run would be replaced by the new inputs' rejects (or removed when they have none), and the earlier
// inputs, skipped from then on, would never have theirs again.
function incrementalRejectsProblem(template: string): string | undefined {
  if (isPerInput(template) || tokensOf(template).includes('run_id')) return undefined;
  return "an incremental job scores only the inputs that are new since its last run, so one rejects file with the same name every run would keep only the last run's rejects (the earlier inputs' rejects lost for good): put {input_stem} in the name for one rejects file per input (rejects/{input_stem}.csv), or {run_id} for one per run (rejects/{date}-{run_id}.csv)";
}

// Unknown tokens in the job's templates, a combined result or rejects file an incremental job would overwrite,
// and a rejects file that is the result, with their YAML paths.
export function templateProblems(job: JobConfig): { message: string; yamlPath: string; token?: string }[] {
  const out: { message: string; yamlPath: string; token?: string }[] = [];
  const incremental = job.output.table ? undefined : job.input.query?.watermark !== undefined ? watermarkProblem(job.output.template) : job.input.incremental ? incrementalProblem(job.output.template) : undefined;
  if (incremental) out.push({ message: incremental, yamlPath: 'output.path' });
  const rejects = job.errors.rejects;
  const incrementalRejects = job.input.incremental && rejects ? incrementalRejectsProblem(rejects) : undefined;
  if (incrementalRejects) out.push({ message: incrementalRejects, yamlPath: 'errors.rejects' });
  // The same path written twice is the same file for every input (run/targets.ts also finds it through
  // tokens and symlinks, once the inputs are known).
  if (rejects !== undefined && rejects === job.output.template) {
    out.push({ message: 'errors.rejects is output.path: the rejected rows and the result would both be written to that file, one replacing the other: give each its own file', yamlPath: 'errors.rejects' });
  }
  const check = (template: string | undefined, yamlPath: string) => {
    if (!template) return;
    for (const t of tokensOf(template)) {
      if (job.input.query && (t === 'input_stem' || t === 'input_name')) {
        out.push({ message: `{${t}} names an input file, and a query has none: use {job}, {run_id}, {date} or {time}`, yamlPath, token: t });
        continue;
      }
      if (!(TOKENS as readonly string[]).includes(t)) {
        out.push({ message: `unknown token {${t}}${didYouMean(t, TOKENS)}; tokens are ${TOKENS.map((x) => `{${x}}`).join(' ')}`, yamlPath, token: t });
      }
    }
  };
  check(job.output.template, 'output.path');
  check(job.errors.rejects, 'errors.rejects');
  return out;
}
