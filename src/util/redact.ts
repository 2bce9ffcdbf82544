// Values taken from the environment by job files (`${VAR}`) are often secrets: nothing serve-batch shows —
// log lines, messages, run records, metrics, what it prints — carries them. Every job file's values are kept
// here as they are expanded (job/load.ts), and each place that shows text to a person or writes a record
// passes it through redact(), which puts `${VAR}` where the value stood. One registry per process: a process
// runs the jobs it loaded, and a value hidden for one job is hidden for all.

/** Values shorter than this are not hidden: they are not secrets, and hiding them would garble everyday text
 *  (`${N}` = 1 would turn every 1 into `${N}`). */
const MIN_HIDDEN_LENGTH = 4;

const byValue = new Map<string, string>();
/** Longest value first, so that a value inside a longer one does not break it up. */
let ordered: [string, string][] = [];

// Hide `value` (from the environment variable `name`) from now on.
export function hideValue(name: string, value: string): void {
  if (value.length < MIN_HIDDEN_LENGTH || byValue.get(value) === name) return;
  byValue.set(value, name);
  ordered = [...byValue.entries()].sort((a, b) => b[0].length - a[0].length);
}

// `text` with every hidden value replaced by `${NAME}`.
export function redact(text: string): string {
  if (ordered.length === 0) return text;
  let out = text;
  for (const [value, name] of ordered) if (out.includes(value)) out = out.split(value).join(`\${${name}}`);
  return out;
}

// A copy of a JSON-like value with every string (keys too) redacted.
export function redactDeep<T>(value: T): T {
  if (ordered.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

// The inverse of redactDeep for this process's values: a record written with `${NAME}` in its paths, read back
// by the process that loaded the same job (merge reads its shards' records), names the files again.
export function unredactDeep<T>(value: T): T {
  if (ordered.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      let out = v;
      for (const [hidden, name] of ordered) out = out.split(`\${${name}}`).join(hidden);
      return out;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
