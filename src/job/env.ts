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
): unknown {
  let whole = false;
  const out = raw.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined, offset: number) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      onProblem(`malformed variable reference '${match}': use \${NAME} or \${NAME:-default}`);
      return match;
    }
    if (offset === 0 && match.length === raw.length) whole = true;
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    onProblem(`environment variable ${name} is not set: export it or write \${${name}:-default}`);
    return '';
  });
  if (!whole) return out;
  const scalar = parseYamlScalar(out);
  return typeof scalar === 'number' || typeof scalar === 'boolean' || scalar === null ? scalar : out;
}

// Expand every string value (not keys) of a parsed YAML tree, collecting every problem with its path.
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, problems: EnvProblem[], path: (string | number)[] = []): unknown {
  if (typeof value === 'string') {
    return value.includes('${') ? expandString(value, env, (message) => problems.push({ path, message })) : value;
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, problems, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, problems, [...path, k]);
    return out;
  }
  return value;
}
