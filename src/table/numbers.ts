// Text → number for feature cells, shared by every reader so all paths agree on what a number is.
// Surrounding spaces/tabs are ignored; pandas' default NA strings (and the empty cell) are missing;
// `inf`/`-Infinity` are infinities; anything else that is not a decimal number is invalid.

export const OK = 0;
export const MISSING = 1;
export const INVALID = 2;
export type CellStatus = typeof OK | typeof MISSING | typeof INVALID;

// pandas.read_csv's default na_values, so a file means the same here as in a notebook.
export const NA_VALUES: ReadonlySet<string> = new Set([
  '', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN',
  '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null',
]);

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;

// Strip spaces and tabs at both ends (not other whitespace: a stray \r is data, not padding).
export function trimCell(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

// The status of a cell and, when OK, its value (correctly rounded to the nearest double).
export function parseNumberCell(raw: string, out: { status: CellStatus }): number {
  const s = trimCell(raw);
  if (NA_VALUES.has(s)) {
    out.status = MISSING;
    return NaN;
  }
  if (DECIMAL.test(s)) {
    out.status = OK;
    return Number(s);
  }
  const inf = INFINITY.exec(s);
  if (inf) {
    out.status = OK;
    return inf[1] === '-' ? -Infinity : Infinity;
  }
  out.status = INVALID;
  return NaN;
}

// True when a trimmed cell is missing (NA string or empty).
export function isMissingText(raw: string): boolean {
  return NA_VALUES.has(trimCell(raw));
}
