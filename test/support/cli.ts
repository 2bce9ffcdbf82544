// Helpers for end-to-end tests: temp directories, job files, and the real CLI spawned as a child process.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, type program } from '../../src/cli/main.js';
import { track } from './children.js';

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

export interface MainResult {
  status: number;
  stdout: string;
  stderr: string;
}

let running = false;

// Run the CLI in this process through main() (args after `serve-batch`): its exit code and what it printed,
// as a spawned CLI with piped stdout/stderr sees it (no TTY, no colour). `cwd` and `env` (undefined unsets a
// variable) hold for this call only; `build` replaces the program (to add a command). A run that leaves a
// signal listener or an exit code behind fails: a process exit would have reset them, the next test would not.
export async function runMain(args: string[], o: { cwd?: string; env?: Record<string, string | undefined>; build?: typeof program } = {}): Promise<MainResult> {
  if (running) throw new Error('runMain: output is captured per process, so calls must not overlap');
  running = true;
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const streams = { stdout: process.stdout, stderr: process.stderr };
  const saved = {
    write: { stdout: process.stdout.write, stderr: process.stderr.write },
    tty: { stdout: Object.getOwnPropertyDescriptor(process.stdout, 'isTTY'), stderr: Object.getOwnPropertyDescriptor(process.stderr, 'isTTY') },
    env: {} as Record<string, string | undefined>,
    cwd: process.cwd(),
    listeners: listenerCounts(),
    exitCode: process.exitCode,
  };
  const capture = (name: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      out[name].push(typeof chunk === 'string' ? Buffer.from(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8') : Buffer.from(chunk));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
  const env = { NO_COLOR: '1', FORCE_COLOR: '0', ...o.env };
  try {
    for (const [k, v] of Object.entries(env)) {
      saved.env[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    for (const name of ['stdout', 'stderr'] as const) {
      Object.defineProperty(streams[name], 'isTTY', { value: false, configurable: true, writable: true });
      streams[name].write = capture(name);
    }
    if (o.cwd) process.chdir(o.cwd);
    const status = await main(['node', 'serve-batch', ...args], o.build);
    return { status, stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8') };
  } finally {
    process.chdir(saved.cwd);
    for (const name of ['stdout', 'stderr'] as const) {
      streams[name].write = saved.write[name];
      const tty = saved.tty[name];
      if (tty) Object.defineProperty(streams[name], 'isTTY', tty);
      else delete (streams[name] as { isTTY?: boolean }).isTTY;
    }
    for (const [k, v] of Object.entries(saved.env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    running = false;
    const leaked = leaks(saved.listeners, saved.exitCode);
    // A leak fails the test even when the run threw: the state it left would break the tests after it.
    // eslint-disable-next-line no-unsafe-finally
    if (leaked) throw new Error(`serve-batch ${args.join(' ')} left state behind in the test process: ${leaked}`);
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const listenerCounts = () => SIGNALS.map((s) => process.listenerCount(s));

// What a finished in-process run changed that a process exit would have reset.
function leaks(listeners: number[], exitCode: typeof process.exitCode): string | undefined {
  const now = listenerCounts();
  const signals = SIGNALS.filter((_, i) => now[i] !== listeners[i]);
  if (signals.length > 0) return `listeners for ${signals.join(', ')}`;
  if (process.exitCode !== exitCode) return `process.exitCode ${process.exitCode}`;
  return undefined;
}

// Start the CLI without waiting (for signals and concurrency tests).
export function cliAsync(args: string[], o: { cwd?: string; env?: Record<string, string>; stdin?: 'pipe' } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: o.cwd ?? ROOT, env: { ...baseEnv(), ...o.env }, stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'] });
  track(child, BIN);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
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
