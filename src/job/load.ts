// Job file → JobConfig: read, parse YAML, expand ${VAR}, check the schema and the output templates,
// and report every problem at once, each as `file:line:col: message (at a.b)`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Alias, type Document } from 'yaml';
import { scheduleProblems } from './schedule-check.js';
import type { z } from 'zod';
import { describeProblem, SbError } from '../errors.js';
import { didYouMean } from '../util/suggest.js';
import { displayPath } from '../util/display.js';
import { hideValue } from '../util/redact.js';
import { isUrl, normalizeJob, normalizeNotify, type JobConfig, type NotifyTarget } from './config.js';
import { expandEnv, variablesOf, type EnvProblem, type EnvSources, type EnvValues } from './env.js';
import { folderDefaultsSchema, JOB_NAME, JOB_NAME_RULE, JOB_NAME_TOO_LONG, jobSchema, knownKeysAt, MAX_JOB_NAME } from './schema.js';
import { templateProblems, TOKENS } from './template.js';

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
  if (path.basename(abs) === FOLDER_DEFAULTS) {
    throw new SbError('USAGE', `${file} holds settings for the job files in its folder, not a job: give one of those job files`);
  }
  const job = parseJob(text, abs, env);
  const defaults = loadFolderDefaults(path.dirname(abs), env);
  if (job.notify === undefined && defaults?.notify !== undefined) job.notify = defaults.notify;
  return job;
}

/** The file in a folder of job files whose settings apply to each of them that does not set its own. */
export const FOLDER_DEFAULTS = '_defaults.yaml';

interface FolderDefaults {
  notify?: NotifyTarget[];
}

// The `_defaults.yaml` of a folder of job files, validated like a job file; undefined when there is none.
function loadFolderDefaults(dir: string, env: NodeJS.ProcessEnv = process.env): FolderDefaults | undefined {
  const file = path.join(dir, FOLDER_DEFAULTS);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SbError('JOB_INVALID', `cannot read ${displayPath(file)} (settings for the job files in its folder): ${(err as Error).message}`);
  }
  const display = displayPath(file);
  const what = 'folder defaults file';
  const { doc, lines, data } = readYaml(text, display, `a ${what}`, what);
  const envProblems: EnvProblem[] = [];
  const sources: EnvSources = new Map();
  const expanded = expandEnv(data, env, envProblems, [], sources);
  const located: Located[] = envProblems.map((p) => ({ message: p.message, path: p.path }));
  const parsed = folderDefaultsSchema.safeParse(expanded);
  const envPaths = new Set(envProblems.map((p) => p.path.join('.')));
  const known = (p: YamlPath) => (p.length === 0 ? Object.keys(folderDefaultsSchema.shape) : knownKeysAt(p));
  if (!parsed.success) located.push(...parsed.error.issues.flatMap((i) => fromIssue(i, expanded, sources, known)).filter((p) => !envPaths.has(p.path.join('.'))));
  const defaults: FolderDefaults = {};
  if (parsed.success && parsed.data.notify !== undefined) {
    defaults.notify = normalizeNotify(parsed.data.notify);
    located.push(...checkWebhooks(defaults.notify, sources));
  }
  if (located.length > 0) throw invalid(display, located.map((p) => locate(doc, lines, display, p)), what);
  return defaults;
}

// Validate job text that came from `file` (used for error positions and relative paths).
export function parseJob(text: string, file: string, env: NodeJS.ProcessEnv = process.env): JobConfig {
  const display = displayPath(file);
  const { doc, lines, data } = readYaml(text, display, 'a job file', 'job file');
  const envProblems: EnvProblem[] = [];
  const sources: EnvSources = new Map();
  const values: EnvValues = new Map();
  const expanded = expandEnv(data, env, envProblems, [], sources, values);
  // The job's name is its identity (file names, the metrics' job_name label), not a place for secrets.
  for (const [name, v] of values) if (v.path !== 'name') hideValue(name, v.value);
  const located: Located[] = envProblems.map((p) => ({ message: p.message, path: p.path }));
  const parsed = jobSchema.safeParse(expanded);
  // A value whose variable is unset was reported above; its schema complaint (`got null`) would be an echo.
  const envPaths = new Set(envProblems.map((p) => p.path.join('.')));
  if (!parsed.success) located.push(...parsed.error.issues.flatMap((i) => fromIssue(i, expanded, sources)).filter((p) => !envPaths.has(p.path.join('.'))));
  if (parsed.success) {
    const job = normalizeJob(parsed.data, file);
    const shorthand = typeof (expanded as { schedule?: unknown }).schedule === 'string';
    for (const p of job.schedule ? scheduleProblems(job.schedule) : []) {
      const at = shorthand ? ['schedule'] : ['schedule', p.key];
      const names = p.key === 'timeout' ? undefined : envNamesAt(sources, at);
      const what = p.key === 'cron' ? 'a valid cron expression' : 'a known time zone (an IANA name such as Europe/Berlin or UTC)';
      located.push({ message: names ? `${variablesOf(names)} does not hold ${what}${NOT_SHOWN}` : p.message, path: at });
    }
    for (const p of templateProblems(job)) {
      // An unknown token that came from a variable is part of its value.
      const at = p.yamlPath.split('.');
      const raw = valueAt(data, at) ?? valueAt(data, at.slice(0, 1));
      const names = envNamesAt(sources, at);
      const fromEnv = p.token !== undefined && names && !(typeof raw === 'string' && raw.includes(`{${p.token}}`));
      located.push({ message: fromEnv ? `${variablesOf(names)} holds an unknown token${NOT_SHOWN}; tokens are ${TOKENS.map((x) => `{${x}}`).join(' ')}` : p.message, path: p.yamlPath.split('.') });
    }
    located.push(...checkWebhooks(job.notify, sources));
    // Objects are for data: the model, locks, the ledger and records stay on this machine.
    for (const [at, value] of [['model.path', job.model.path], ['state_dir', job.stateDir], ['metrics_file', job.metricsFile]] as const) {
      if (value !== undefined && isUrl(value)) located.push({ message: `must be a local path: only input.path, output.path and errors.rejects may name objects (${value.split(':')[0]}://)`, path: at.split('.') });
    }
    if (job.monitor && !job.profile) located.push({ message: 'monitor compares the profile of each run with its reference: remove profile: false', path: ['profile'] });
    if (parsed.data.name === undefined && !JOB_NAME.test(job.name)) {
      located.push({ message: `the job name '${job.name}' (from the file name) ${JOB_NAME_RULE}: set name:`, path: [] });
    } else if (parsed.data.name === undefined && job.name.length > MAX_JOB_NAME) {
      located.push({ message: `the job name (from the file name, ${job.name.length} characters) ${JOB_NAME_TOO_LONG}: set name:`, path: [] });
    }
    if (located.length === 0) return job;
  }
  throw invalid(
    display,
    located.map((p) => locate(doc, lines, display, p)),
  );
}

// Parse YAML text into its document (for positions) and data, which must be a mapping; throws
// SbError(JOB_INVALID) with the first syntax or alias problem.
function readYaml(text: string, display: string, what: string, kind: string): { doc: Document; lines: LineCounter; data: Record<string, unknown> } {
  const lines = new LineCounter();
  // logLevel: yaml's warnings (a mapping used as a key) would be printed by Node as process warnings; the
  // schema reports such a key itself.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
  if (doc.errors.length > 0) {
    // Only the first: later YAML errors are usually echoes of it.
    const e = doc.errors[0];
    const pos = lines.linePos(e.pos[0]);
    const lineText = text.split(/\r?\n/)[pos.line - 1] ?? '';
    const hint = /\{\w+\}/.test(lineText)
      ? "; inside [ ... ] or { ... }, quote values that contain braces ({tokens}, ${VAR}), e.g. { rejects: 'out/{input_stem}.csv' }"
      : '';
    throw invalid(display, [describeProblem(`YAML syntax error: ${firstLine(e.message)}${hint}`, { file: display, line: pos.line, column: pos.col })], kind);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw invalid(display, [aliasProblem(doc, lines, display, err)], kind);
  }
  const loop = selfAlias(doc);
  if (loop) {
    const pos = lines.linePos(loop.range?.[0] ?? 0);
    throw invalid(display, [describeProblem(`YAML alias *${loop.source} stands inside the value it names (&${loop.source}), so that value would never end`, { file: display, line: pos.line, column: pos.col })], kind);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw invalid(display, [describeProblem(`${what} must be a YAML mapping (key: value lines)`, { file: display, line: 1 })], kind);
  }
  return { doc, lines, data: data as Record<string, unknown> };
}

function invalid(display: string, problems: string[], kind = 'job file'): SbError {
  const n = problems.length;
  return new SbError('JOB_INVALID', `${kind} ${display} is invalid (${n} problem${n === 1 ? '' : 's'})`, { problems });
}

/** What a webhook must be. */
const WEBHOOK_FORM = 'an http:// or https:// URL with a host';

// Why a webhook URL cannot be used (never quoting it: it may hold a secret), or undefined.
function webhookProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `must be ${WEBHOOK_FORM}, like https://hooks.slack.com/services/...; this is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be ${WEBHOOK_FORM}; got a ${url.protocol} URL`;
  if (url.hostname === '') return `must be ${WEBHOOK_FORM}; this one has no host`;
  return undefined;
}

// Check each webhook's URL and name the ones that came from the environment by their variables.
function checkWebhooks(targets: NotifyTarget[] | undefined, sources: EnvSources): Located[] {
  const out: Located[] = [];
  targets?.forEach((t, i) => {
    const at = ['notify', i, 'webhook'];
    const names = envNamesAt(sources, at);
    if (names) t.shown = `${variablesOf(names)} (${t.shown})`;
    const problem = webhookProblem(t.url);
    if (problem) out.push({ message: names ? `${variablesOf(names)} does not hold ${WEBHOOK_FORM}${NOT_SHOWN}` : problem, path: at });
  });
  return out;
}

// Said where a value from the environment would have been shown: variables often hold secrets.
const NOT_SHOWN = ' (values from the environment are not shown)';

/** How many copies of anchored YAML nodes a job file may expand to (the yaml package's default). */
const MAX_ALIAS_COUNT = 100;

// A document whose aliases cannot be expanded — too many copies (a "billion laughs" file), an alias without
// an anchor before it — as one problem at the first alias concerned.
function aliasProblem(doc: Document, lines: LineCounter, display: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const unresolved = /^Unresolved alias.*: (.*)$/.exec(message)?.[1];
  let at: Alias | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (unresolved === undefined || node.source === unresolved) {
        at = node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  const pos = at?.range ? lines.linePos(at.range[0]) : { line: 1, col: 1 };
  const what = /Excessive alias count/.test(message)
    ? `YAML aliases expand to too much data (more than ${MAX_ALIAS_COUNT} copies of anchored values); write the values out instead of using *aliases`
    : unresolved !== undefined
      ? `YAML alias *${unresolved} has no anchor &${unresolved} before it`
      : `YAML aliases cannot be expanded: ${firstLine(message)}`;
  return describeProblem(what, { file: display, line: pos.line, column: pos.col });
}

// The first alias inside the node its anchor names (`a: &a [*a]`): yaml makes that a value that contains
// itself, which no job file means.
function selfAlias(doc: Document): Alias | undefined {
  let found: Alias | undefined;
  visit(doc, {
    Alias(_key, node, ancestors) {
      if (!ancestors.some((a) => (a as { anchor?: string }).anchor === node.source)) return undefined;
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

// A zod issue → our messages (one per unknown key).
function fromIssue(issue: z.core.$ZodIssue, data: unknown, sources: EnvSources, knownKeys: (p: YamlPath) => string[] = knownKeysAt): Located[] {
  const p = issue.path.map((k) => (typeof k === 'number' ? k : String(k)));
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(p);
    return issue.keys.map((key) => ({
      message: `unknown key '${key}'${didYouMean(key, known)}`,
      path: [...p, key],
      key,
    }));
  }
  const describe = (v: unknown) => {
    const names = envNamesAt(sources, p);
    if (!names || v === undefined) return describeValue(v);
    return v === null ? `null from ${variablesOf(names)}` : `${typeof v} from ${variablesOf(names)}${NOT_SHOWN}`;
  };
  if (issue.code === 'invalid_type') {
    const got = describe(valueAt(data, p));
    const message = got === 'missing' ? `required key is missing` : `expected ${issue.expected}, got ${got}`;
    return [{ message, path: p }];
  }
  if (issue.code === 'invalid_union') {
    // A union's own "Invalid input" says nothing: name the accepted types, or the first branch's message.
    const branches = issue.errors.flat();
    const expected = [...new Set(branches.filter((b) => b.code === 'invalid_type').map((b) => (b as { expected: string }).expected))];
    const other = branches.find((b) => b.code !== 'invalid_type' && b.path.length === 0);
    const got = describe(valueAt(data, p));
    const message = other && expected.length <= 1 ? other.message : `expected ${expected.join(' or ')}, got ${got}`;
    return [{ message, path: p }];
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return [{ message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`, path: p }];
  }
  return [{ message: issue.message, path: p }];
}

// The variables the value at `p` came from: its own, or those of a shorthand it was widened from
// (`output: ${OUT}` is `output.path`).
function envNamesAt(sources: EnvSources, p: YamlPath): string[] | undefined {
  for (let n = p.length; n > 0; n--) {
    const names = sources.get(p.slice(0, n).join('.'));
    if (names) return names;
  }
  return undefined;
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
