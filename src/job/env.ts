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
  onVariable?: (name: string) => void,
): unknown {
  let whole = false;
  const out = raw.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined, offset: number) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      onProblem(`malformed variable reference '${match}': use \${NAME} or \${NAME:-default}`);
      return match;
    }
    if (offset === 0 && match.length === raw.length) whole = true;
    onVariable?.(name);
    // As in POSIX sh: ${VAR:-d} uses d when VAR is unset or empty; ${VAR} may be set to the empty string.
    const value = env[name];
    if (value !== undefined && (value !== '' || fallback === undefined)) return value;
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

// Expand every string value (not keys) of a parsed YAML tree, collecting every problem with its path, and in
// `sources` which variables each value came from (so messages can name them instead of showing their values).
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, problems: EnvProblem[], path: (string | number)[] = [], sources?: EnvSources): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const names: string[] = [];
    const out = expandString(value, env, (message) => problems.push({ path, message }), (name) => names.includes(name) || names.push(name));
    if (names.length > 0) sources?.set(path.join('.'), names);
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, problems, [...path, i], sources));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, problems, [...path, k], sources);
    return out;
  }
  return value;
}

// How a message names a value from the environment: `${HOME}`, `${A} and ${B}`.
export function variablesOf(names: string[]): string {
  return names.map((n) => `\${${n}}`).join(' and ');
}
