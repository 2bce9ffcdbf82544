// Builds dist/ before the tests when a source file is newer than the build: the end-to-end tests spawn the real
// CLI (bin/serve-batch.js runs dist/), and a stale build would test old code.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { stopLeftChildren } from './support/children.js';

const root = path.resolve(import.meta.dirname, '..');

// Newest modification time of the .ts files under `dir`.
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

export default function setup(): () => void {
  stopLeftChildren();
  build();
  return () => void stopLeftChildren();
}

function build(): void {
  const built = statSync(path.join(root, 'dist/src/cli/main.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (newest(path.join(root, 'src')) <= built) return;
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
}
