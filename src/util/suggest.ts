// "Did you mean" for misspelt names: the closest candidate within a small edit distance.
import { quoteCell } from './quote.js';

// Levenshtein distance, case-insensitive.
function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[t.length];
}

const loose = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

// The candidate closest to `name`, if it is close enough to be a plausible typo. A candidate equal to it
// but for case and punctuation (`x2` ~ `X_2`) wins over one at the same edit distance.
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  const same = list.find((c) => loose(c) === loose(name));
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of list) {
    const d = editDistance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 3));
  return bestDistance <= limit ? best : undefined;
}

// `, did you mean 'x'?` or an empty string.
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const c = closest(name, candidates);
  return c === undefined ? '' : `, did you mean ${quoteCell(c)}?`;
}
