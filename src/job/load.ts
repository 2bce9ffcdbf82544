// Job file → JobConfig: read, parse YAML, expand ${VAR}, check the schema and the output templates,
// and report every problem at once, each as `file:line:col: message (at a.b)`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { scheduleProblems } from '../schedule/check.js';
import type { z } from 'zod';
import { describeProblem, SbError } from '../errors.js';
import { didYouMean } from '../util/suggest.js';
import { displayPath } from '../util/display.js';
import { normalizeJob, type JobConfig } from './config.js';
import { expandEnv, type EnvProblem } from './env.js';
import { JOB_NAME, jobSchema, knownKeysAt } from './schema.js';
import { templateProblems } from './template.js';

type YamlPath = (string | number)[];

interface Located {
  message: string;
  path: YamlPath;
  /** For unknown keys, point at the key rather than the parent object. */
  key?: string;
}

// Load and validate a job file. Throws SbError(JOB_INVALID) listing every problem.
export function loadJob(file: string, env: NodeJS.ProcessEnv = process.env): JobConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SbError('PATH_NOT_FOUND', `job file not found: ${file}`);
    if (code === 'EISDIR') throw new SbError('USAGE', `${file} is a directory; give a job file (.yaml)`);
    throw new SbError('JOB_INVALID', `cannot read job file ${file}: ${(err as Error).message}`);
  }
  return parseJob(text, abs, env);
}

// Validate job text that came from `file` (used for error positions and relative paths).
export function parseJob(text: string, file: string, env: NodeJS.ProcessEnv = process.env): JobConfig {
  const display = displayPath(file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    // Only the first: later YAML errors are usually echoes of it.
    const e = doc.errors[0];
    const pos = lines.linePos(e.pos[0]);
    const lineText = text.split(/\r?\n/)[pos.line - 1] ?? '';
    const hint = /\{\w+\}/.test(lineText)
      ? "; inside [ ... ] or { ... }, quote values that contain braces ({tokens}, ${VAR}), e.g. { rejects: 'out/{input_stem}.csv' }"
      : '';
    throw invalid(display, [describeProblem(`YAML syntax error: ${firstLine(e.message)}${hint}`, { file: display, line: pos.line, column: pos.col })]);
  }
  const data = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw invalid(display, [describeProblem('a job file must be a YAML mapping (key: value lines)', { file: display, line: 1 })]);
  }
  const envProblems: EnvProblem[] = [];
  const expanded = expandEnv(data, env, envProblems);
  const located: Located[] = envProblems.map((p) => ({ message: p.message, path: p.path }));
  const parsed = jobSchema.safeParse(expanded);
  // A value whose variable is unset was reported above; its schema complaint (`got null`) would be an echo.
  const envPaths = new Set(envProblems.map((p) => p.path.join('.')));
  if (!parsed.success) located.push(...parsed.error.issues.flatMap((i) => fromIssue(i, expanded)).filter((p) => !envPaths.has(p.path.join('.'))));
  if (parsed.success) {
    const job = normalizeJob(parsed.data, file);
    const shorthand = typeof (expanded as { schedule?: unknown }).schedule === 'string';
    for (const p of job.schedule ? scheduleProblems(job.schedule) : []) located.push({ message: p.message, path: shorthand ? ['schedule'] : ['schedule', p.key] });
    for (const p of templateProblems(job)) located.push({ message: p.message, path: p.yamlPath.split('.') });
    if (parsed.data.name === undefined && !JOB_NAME.test(job.name)) {
      located.push({ message: `the job name '${job.name}' (from the file name) must be letters, digits, ".", "_" or "-": set name:`, path: [] });
    }
    if (located.length === 0) return job;
  }
  throw invalid(
    display,
    located.map((p) => locate(doc, lines, display, p)),
  );
}

function invalid(display: string, problems: string[]): SbError {
  const n = problems.length;
  return new SbError('JOB_INVALID', `job file ${display} is invalid (${n} problem${n === 1 ? '' : 's'})`, { problems });
}

// A zod issue → our messages (one per unknown key).
function fromIssue(issue: z.core.$ZodIssue, data: unknown): Located[] {
  const p = issue.path.map((k) => (typeof k === 'number' ? k : String(k)));
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(p);
    return issue.keys.map((key) => ({
      message: `unknown key '${key}'${didYouMean(key, known)}`,
      path: [...p, key],
      key,
    }));
  }
  if (issue.code === 'invalid_type') {
    const got = describeValue(valueAt(data, p));
    const message = got === 'missing' ? `required key is missing` : `expected ${issue.expected}, got ${got}`;
    return [{ message, path: p }];
  }
  if (issue.code === 'invalid_union') {
    // A union's own "Invalid input" says nothing: name the accepted types, or the first branch's message.
    const branches = issue.errors.flat();
    const expected = [...new Set(branches.filter((b) => b.code === 'invalid_type').map((b) => (b as { expected: string }).expected))];
    const other = branches.find((b) => b.code !== 'invalid_type' && b.path.length === 0);
    const got = describeValue(valueAt(data, p));
    const message = other && expected.length <= 1 ? other.message : `expected ${expected.join(' or ')}, got ${got}`;
    return [{ message, path: p }];
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return [{ message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`, path: p }];
  }
  return [{ message: issue.message, path: p }];
}

function valueAt(data: unknown, p: YamlPath): unknown {
  let v = data;
  for (const k of p) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

// Attach file:line:col from the YAML source to a problem at a path.
function locate(doc: Document, lines: LineCounter, display: string, p: Located): string {
  const offset = offsetOf(doc, p);
  const pos = offset === undefined ? undefined : lines.linePos(offset);
  return describeProblem(p.message, { file: display, line: pos?.line, column: pos?.col, yamlPath: p.path.join('.') || undefined });
}

function offsetOf(doc: Document, p: Located): number | undefined {
  for (let n = p.path.length; n >= 0; n--) {
    const sub = p.path.slice(0, n);
    const parent = sub.length === 0 ? doc.contents : doc.getIn(sub.slice(0, -1), true);
    if (sub.length > 0 && isMap(parent)) {
      const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === String(sub[sub.length - 1]));
      const target = p.key !== undefined && n === p.path.length ? pair?.key : (pair?.value ?? pair?.key);
      const range = (target as { range?: [number, number, number] } | undefined)?.range;
      if (range) return range[0];
    }
    const node = doc.getIn(sub, true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return node.range[0];
  }
  return undefined;
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}
