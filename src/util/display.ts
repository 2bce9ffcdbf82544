// Paths as shown to users: relative to the working directory when inside it, absolute otherwise; URLs
// (`s3://bucket/key`) as they are.
import path from 'node:path';

export function displayPath(p: string): string {
  if (p === '-') return 'stdin';
  // A URL (a database, an object store), or a table on one: not a path of this machine.
  if (p.includes('://')) return p;
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

// `1 row`, `2 rows`, `1,000 rows`: a count and its noun, singular for one.
export function counted(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}
