// Helpers for end-to-end tests: spawn the built CLI (bin/serve-batch.js → dist/) with real files in a
// temporary directory, and read what it wrote.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { BIN, MODELS, ROOT } from '../support/cli.js';
import { track } from '../support/children.js';

export { BIN, listFiles, MODELS, ROOT, tempDir } from '../support/cli.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first JSON log line on stderr that satisfies `pred` (rejects after `ms`). */
  waitForLog(pred: (e: LogLine) => boolean, ms?: number): Promise<LogLine>;
  done: Promise<CliResult>;
}

export type LogLine = Record<string, unknown> & { event: string; level: string; msg: string };

// Start the CLI; logs are JSON lines (stderr is not a TTY).
export function startCli(args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' } = {}): Running {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: o.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...o.env },
    stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  track(child, BIN);
  let out = '';
  let err = '';
  const waiters: { pred: (e: LogLine) => boolean; resolve: (e: LogLine) => void }[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const e = parseLine(line);
      if (!e) continue;
      for (const w of [...waiters]) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err, ms: Date.now() - started }));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    done,
    waitForLog(pred, ms = 15_000) {
      const seen = logLines(err).find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${ms}ms; stderr so far:\n${err}`)), ms);
        waiters.push({
          pred,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
        void done.then(() => {
          clearTimeout(timer);
          reject(new Error(`the CLI exited before a matching log line; stderr:\n${err}`));
        });
      });
    },
  };
}

// Run the CLI to completion.
export function cli(args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return startCli(args, o).done;
}

function parseLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

// The JSON log lines of a stderr capture.
export function logLines(stderr: string): LogLine[] {
  return stderr.split('\n').flatMap((l) => parseLine(l) ?? []);
}

// Run records of a job under a state dir, oldest first.
export function runRecords(stateDir: string, job: string): Record<string, any>[] {
  const dir = path.join(stateDir, 'runs', job);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json') && !n.endsWith('.profile.json')).sort();
  } catch {
    return [];
  }
  return names.map((n) => JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as Record<string, any>);
}

// A small CSV for the linear_binary model (columns a, b, c).
export function writeCsv(file: string, rows: number): void {
  let s = 'id,a,b,c\n';
  for (let i = 0; i < rows; i++) s += `r${i},${(i % 10) / 10},${(i % 7) / 7},${i % 3}\n`;
  writeFileSync(file, s);
}

// A job file in `dir`; `extra` is appended YAML (schedule:, metrics_file:, ...).
export function writeJob(dir: string, name: string, o: { model?: string; input?: string; output?: string; stateDir?: string; extra?: string } = {}): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      `model: ${o.model ?? path.join(MODELS, 'linear_binary.onnx')}`,
      `input: ${o.input ?? 'in/*.csv'}`,
      'features:',
      '  columns: [a, b, c]',
      'passthrough: [id]',
      `output: ${o.output ?? `out/${name}/{input_stem}.csv`}`,
      `state_dir: ${o.stateDir ?? 'state'}`,
      o.extra ?? '',
    ].join('\n'),
  );
  return file;
}

// Wait until `check` returns true (polling every 20 ms), or throw after `ms`.
export async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
