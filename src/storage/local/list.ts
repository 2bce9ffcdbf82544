// Local input patterns (file, directory, glob or a list of them) → the sorted, de-duplicated list of input
// files. A literal path that does not exist is an error; a glob or directory matching nothing is an empty run.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { SbError } from '../../errors.js';
import type { Listed, ListOptions } from '../backends.js';

// List every pattern; `keep` says which files found in a directory are inputs.
export async function listLocal(patterns: string[], o: ListOptions = {}): Promise<Listed[]> {
  const found = new Set<string>();
  for (const p of patterns) {
    if (p === '-') {
      if (patterns.length > 1) throw new SbError('USAGE', "'-' (standard input) cannot be combined with other inputs", { yamlPath: 'input.path' });
      return [{ path: '-' }];
    }
    if (isDynamicPattern(p, { caseSensitiveMatch: true })) {
      const { cwd, pattern } = await splitGlob(p);
      for (const f of await glob(pattern, { cwd, absolute: true, onlyFiles: true, dot: false, expandDirectories: false })) {
        if (!isHidden(f)) found.add(path.normalize(f));
      }
      continue;
    }
    let s;
    try {
      s = await stat(p);
    } catch {
      throw new SbError('PATH_NOT_FOUND', `input not found: ${p}`, { yamlPath: 'input.path' });
    }
    if (s.isDirectory()) {
      for (const name of await readdir(p)) {
        const f = path.join(p, name);
        if (isHidden(f) || (o.keep && !o.keep(f))) continue;
        if ((await stat(f).catch(() => undefined))?.isFile()) found.add(f);
      }
    } else {
      found.add(p);
    }
  }
  const files = [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(files.map(async (f) => ({ path: f, bytes: (await stat(f).catch(() => undefined))?.size })));
}

// The longest leading part of a glob that is an existing directory is taken literally, so a job directory
// named like `Data (2024)` or `x[1]` is not read as glob syntax; the rest is the pattern.
async function splitGlob(p: string): Promise<{ cwd: string; pattern: string }> {
  const root = path.parse(p).root;
  const parts = p.slice(root.length).split(path.sep);
  let cwd = root;
  let i = 0;
  for (; i < parts.length - 1; i++) {
    const next = path.join(cwd, parts[i]);
    if (!(await stat(next).catch(() => undefined))?.isDirectory()) break;
    cwd = next;
  }
  return { cwd, pattern: parts.slice(i).join('/') };
}

// Hidden files (`.name`) are never inputs: landing folders hold partial uploads and our own temp files there.
function isHidden(file: string): boolean {
  return path.basename(file).startsWith('.');
}
