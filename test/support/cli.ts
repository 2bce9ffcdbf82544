// Helpers for end-to-end tests: temp directories, job files, and the real CLI spawned as a child process.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, type program } from '../../src/cli/main.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/serve-batch.js');
export const MODELS = path.join(ROOT, 'fixtures/models');
export const model = (name: string) => path.join(MODELS, `${name}.onnx`);

export { tempDir } from './temp-dir.js';

// Write files (relative path → content) under `dir`.
export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    const p = path.join(dir, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

// Every file below `dir`, relative, sorted (hidden ones included).
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const baseEnv = () => ({ ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' });

// Run the CLI to completion.
export function cli(args: string[], o: { cwd?: string; env?: Record<string, string>; input?: string | Buffer } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: o.cwd ?? ROOT, env: { ...baseEnv(), ...o.env }, input: o.input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// Run the CLI in this process through main() (args after `serve-batch`): its exit code and what it printed.
// `build` replaces the program (to add a command). Output is captured, so tests must not run it concurrently.
export async function runMain(args: string[], o: { cwd?: string; build?: typeof program } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (name: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      out[name] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
  const cwd = process.cwd();
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  try {
    if (o.cwd) process.chdir(o.cwd);
    const status = await main(['node', 'serve-batch', ...args], o.build);
    return { status, ...out };
  } finally {
    process.chdir(cwd);
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
}

// Start the CLI without waiting (for signals and concurrency tests).
export function cliAsync(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: o.cwd ?? ROOT, env: { ...baseEnv(), ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
  return { child, done, output: () => ({ stdout, stderr }) };
}

// Parse CSV text the simple way (tests write unambiguous files): rows of fields.
export function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

// A one-line, stack-free error message check.
export function expectOneLineError(stderr: string): string[] {
  const lines = stderr.trim().split('\n').filter(Boolean);
  for (const l of lines) {
    if (/^\s+at /.test(l) || l.includes('node:internal')) throw new Error(`stack trace in stderr:\n${stderr}`);
  }
  return lines;
}
