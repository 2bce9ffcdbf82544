// hyparquet's internals (hyparquet/src/*.js) are undocumented: they are imported in one adapter only, and the
// version installed is the exact one package.json pins, which is the one the adapter was written against.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

// Every .ts file under dir.
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('hyparquet', () => {
  const pinned = (json(path.join(ROOT, 'package.json')).dependencies as Record<string, string>).hyparquet;

  it('is pinned to an exact version, the one installed and locked', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    // The package exports no ./package.json: found from its entry point (src/node.js).
    const entry = createRequire(import.meta.url).resolve('hyparquet');
    expect(json(path.join(path.dirname(entry), '..', 'package.json')).version).toBe(pinned);
    const lock = json(path.join(ROOT, 'package-lock.json')) as { packages: Record<string, { version?: string; dependencies?: Record<string, string> }> };
    expect(lock.packages['node_modules/hyparquet'].version).toBe(pinned);
    expect(lock.packages[''].dependencies?.hyparquet).toBe(pinned);
  });

  it('internals are imported by src/io/parquet/hyparquet.ts only', () => {
    const users = sources(path.join(ROOT, 'src')).filter((f) => /from 'hyparquet\/src\//.test(readFileSync(f, 'utf8')));
    expect(users.map((f) => path.relative(ROOT, f))).toEqual(['src/io/parquet/hyparquet.ts']);
  });
});
