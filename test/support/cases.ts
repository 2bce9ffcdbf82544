// Table-driven CLI cases (test/cli/mistakes.test.ts, test/cli/corpus.test.ts): files in a fresh directory,
// the CLI's main() in this process (or the real CLI spawned, for a case that acts while it runs), and the
// checks every case shares — the documented exit code, no stack trace, for a failure
// a one-line message that says what and where, and never a partial output: no result of a failed input,
// no temporary file, no lock left behind.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { expectOneLineError, listFiles, runMain, tempDir, writeFiles, type CliResult, type MainResult } from './cli.js';

export interface CliCase {
  name: string;
  files: Record<string, string | Buffer>;
  /** Arguments after the command; `JOB` is replaced by the job file path (default: just the job). */
  args?: string[];
  command?: string;
  exit: number;
  /** A failure: one stderr line must match (file:line:column or YAML path, and what is wrong). */
  message?: RegExp;
  env?: Record<string, string>;
  /** Prepare the directory after the files are written. */
  before?: (dir: string) => void;
  /** Run the CLI some other way (concurrent actions while it runs); default: runMain() in `dir`. */
  run?: (dir: string, args: string[]) => Promise<CliResult>;
  /** Results (relative paths) a failure must not leave; default out/result.csv. */
  absent?: string[];
  /** Results (relative paths) that must exist afterwards (the inputs that did not fail). */
  present?: string[];
  /** A success: check what was written. */
  check?: (dir: string, r: CliResult | MainResult) => void;
}

// Run one case and check what every case must hold.
export async function runCase(c: CliCase): Promise<void> {
  const d = tempDir();
  writeFiles(d, c.files);
  c.before?.(d);
  const jobFile = path.join(d, 'job.yaml');
  const args = [c.command ?? 'run', ...(c.args ?? ['JOB']).map((a) => (a === 'JOB' ? jobFile : a)), '--log-format', 'text'];
  const r = c.run ? await c.run(d, args) : await runMain(args, { cwd: d, env: c.env });
  expect(r.status, r.stderr).toBe(c.exit);
  const lines = expectOneLineError(r.stderr);
  if (c.message) expect(lines.some((l) => c.message?.test(l)), `no line matches ${c.message}:\n${r.stderr}`).toBe(true);
  if (c.exit !== 0) for (const f of c.absent ?? ['out/result.csv']) expect(existsSync(path.join(d, f)), `${f} exists`).toBe(false);
  for (const f of c.present ?? []) expect(existsSync(path.join(d, f)), `${f} is missing`).toBe(true);
  expect(listFiles(d).filter((f) => f.includes('.sb-tmp'))).toEqual([]);
  expect(listFiles(d).filter((f) => f.endsWith('.lock'))).toEqual([]);
  c.check?.(d, r);
}
