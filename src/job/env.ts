// `${VAR}` and `${VAR:-default}` expansion in job-file strings. `$${` stands for a literal `${`.
import { parse as parseYamlScalar } from 'yaml';

export interface EnvProblem {
  path: (string | number)[];
  message: string;
}

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?/g;

// Expand one string; a value that is exactly one `${...}` is re-read as a YAML scalar so that
// `batch_size: ${BATCH:-4096}` stays a number.
export function expandString(
  raw: string,
  env: NodeJS.ProcessEnv,
  onProblem: (message: string) => void,
  onVariable?: (name: string, value?: string) => void,
): unknown {
  let whole = false;
  const out = raw.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined, offset: number) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      onProblem(`malformed variable reference '${match}': use \${NAME} or \${NAME:-default}`);
      return match;
    }
    if (offset === 0 && match.length === raw.length) whole = true;
    // As in POSIX sh: ${VAR:-d} uses d when VAR is unset or empty; ${VAR} may be set to the empty string.
    const value = env[name];
    const used = value !== undefined && (value !== '' || fallback === undefined);
    onVariable?.(name, used ? value : undefined);
    if (used) return value;
    if (fallback !== undefined) return fallback;
    onProblem(`environment variable ${name} is not set: export it or write \${${name}:-default}`);
    return '';
  });
  // Only text that is a YAML number, boolean or null changes type: parsing anything else as YAML would turn
  // `#1` (a comment) into null, fail on `a: b: c`, or read `1 # x` as 1.
  if (!whole || (out !== '' && !CORE_SCALAR.test(out.trim()))) return out;
  const scalar = parseYamlScalar(out);
  return typeof scalar === 'number' || typeof scalar === 'boolean' || scalar === null ? scalar : out;
}

// YAML 1.2 core schema: null, booleans, integers (decimal, 0o, 0x) and floats.
const CORE_SCALAR =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** The variables each expanded value was built from, by its dotted path (`schedule.cron` → [CRON]). */
export type EnvSources = Map<string, string[]>;

/** The environment values put into text (not the defaults, nor values read as numbers or booleans), by
 *  variable, each with the dotted path of the first value it went into. */
export type EnvValues = Map<string, { value: string; path: string }>;

// Expand every string value (not keys) of a parsed YAML tree, collecting every problem with its path, and in
// `sources` which variables each value came from (so messages can name them instead of showing their values).
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, problems: EnvProblem[], path: (string | number)[] = [], sources?: EnvSources, values?: EnvValues): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const names: string[] = [];
    const used: [string, string][] = [];
    const out = expandString(value, env, (message) => problems.push({ path, message }), (name, v) => {
      if (!names.includes(name)) names.push(name);
      if (v !== undefined) used.push([name, v]);
    });
    const at = path.join('.');
    if (names.length > 0) sources?.set(at, names);
    if (typeof out === 'string') for (const [name, v] of used) if (!values?.has(name)) values?.set(name, { value: v, path: at });
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, problems, [...path, i], sources, values));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, problems, [...path, k], sources, values);
    return out;
  }
  return value;
}

// How a message names a value from the environment: `${HOME}`, `${A} and ${B}`.
export function variablesOf(names: string[]): string {
  return names.map((n) => `\${${n}}`).join(' and ');
}
