// Data inside one-line messages (cells, header names, keys): an input can be any file — a symlink to a key
// or to a binary — so what a message shows of it is short and cannot act on a terminal or a log reader.

/** Characters shown of a piece of data: enough to recognise it, too few to copy a secret out of a file — keys
 *  and tokens are 32 characters and more (a GitHub token or an AWS secret key 40), so none is shown whole. */
const EXCERPT_CHARS = 20;

// Line breaks and other control characters (C0, DEL, C1), lone surrogates, line/paragraph separators and
// the bidirectional controls that reorder what a terminal shows.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;
// What JSON.stringify leaves as it is among those.
const UNSAFE_AFTER_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

// A cell value inside a one-line message: 'abc', or a JSON string ("a\nb") when it holds any of the
// characters above, cut to `max` characters with "…".
export function quoteCell(value: string, max = EXCERPT_CHARS): string {
  const cut = excerpt(value, max);
  if (!UNSAFE.test(cut)) return `'${cut}'`;
  return JSON.stringify(cut).replace(UNSAFE_AFTER_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// A name from the data (a header column, a JSON key) in a list: as it is when short and plain, else quoted.
export function shownName(name: string): string {
  return name.length <= EXCERPT_CHARS && !UNSAFE.test(name) && !/^\s|\s$|, |'/.test(name) ? name : quoteCell(name);
}

// Names from the data as a message lists them: `a, b, c`, the first `count` of them, then "…".
export function shownNames(names: readonly string[], count = 12): string {
  const shown = names.slice(0, count).map(shownName).join(', ');
  return names.length > count ? `${shown}, …` : shown;
}

// The first `max` characters of `value` (a surrogate pair is not split), with "…" when something was cut.
function excerpt(value: string, max: number): string {
  if (value.length <= max) return value;
  const end = /[\ud800-\udbff]/.test(value[max - 1]) ? max - 1 : max;
  return `${value.slice(0, end)}…`;
}
