// Output path templates: `{job} {input_stem} {input_name} {run_id} {date} {time} {shard}`.
import path from 'node:path';
import { didYouMean } from '../util/suggest.js';
import type { JobConfig } from './config.js';

export const TOKENS = ['job', 'input_stem', 'input_name', 'run_id', 'date', 'time', 'shard'] as const;
export type Token = (typeof TOKENS)[number];
export type TokenValues = Partial<Record<Token, string>>;

const TOKEN_RE = /\{([^{}]*)\}/g;

// The token names a template uses.
export function tokensOf(template: string): string[] {
  return [...template.matchAll(TOKEN_RE)].map((m) => m[1]);
}

// True when each input gets its own file (the template names the input).
export function isPerInput(template: string): boolean {
  return tokensOf(template).some((t) => t === 'input_stem' || t === 'input_name');
}

// Replace tokens by their values; a token without a value is left for the caller to reject.
export function render(template: string, values: TokenValues): string {
  return template.replace(TOKEN_RE, (m, name: string) => values[name as Token] ?? m);
}

// A file name without its format extension (and a compression suffix): `a.csv.gz` → `a`,
// `sales.2024-01.csv` → `sales.2024-01`, `.hidden` → `.hidden`.
export function stemOf(file: string): string {
  const base = path.basename(file).replace(/\.(gz|gzip)$/i, '');
  const i = base.lastIndexOf('.');
  return i <= 0 ? base : base.slice(0, i);
}

// Unknown tokens in the job's templates, with their YAML paths.
export function templateProblems(job: JobConfig): { message: string; yamlPath: string }[] {
  const out: { message: string; yamlPath: string }[] = [];
  const check = (template: string | undefined, yamlPath: string) => {
    if (!template) return;
    for (const t of tokensOf(template)) {
      if (!(TOKENS as readonly string[]).includes(t)) {
        out.push({ message: `unknown token {${t}}${didYouMean(t, TOKENS)}; tokens are ${TOKENS.map((x) => `{${x}}`).join(' ')}`, yamlPath });
      }
    }
  };
  check(job.output.template, 'output.path');
  check(job.errors.rejects, 'errors.rejects');
  return out;
}
