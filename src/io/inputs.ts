// input.path (file, directory, glob or a list of them) → the sorted, de-duplicated list of input files.
// A literal path that does not exist is an error; a glob or directory matching nothing is an empty run.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { SbError } from '../errors.js';
import { formatOf } from './formats.js';

export interface InputFile {
  /** Absolute path, or '-' for stdin. */
  path: string;
  bytes?: number;
}

// Resolve every pattern; `explicitFormat` admits files of any extension found in a directory.
export async function resolveInputs(patterns: string[], explicitFormat?: string): Promise<InputFile[]> {
  const found = new Set<string>();
  for (const p of patterns) {
    if (p === '-') return [{ path: '-' }];
    if (isDynamicPattern(p, { caseSensitiveMatch: true })) {
      const cwd = path.parse(p).root;
      for (const f of await glob(p.slice(cwd.length), { cwd, absolute: true, onlyFiles: true, dot: false, expandDirectories: false })) {
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
        if (isHidden(f) || !(explicitFormat || formatOf(f))) continue;
        if ((await stat(f).catch(() => undefined))?.isFile()) found.add(f);
      }
    } else {
      found.add(p);
    }
  }
  const files = [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(files.map(async (f) => ({ path: f, bytes: (await stat(f).catch(() => undefined))?.size })));
}

// Hidden files (`.name`) are never inputs: landing folders hold partial uploads and our own temp files there.
function isHidden(file: string): boolean {
  return path.basename(file).startsWith('.');
}
