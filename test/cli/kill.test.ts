// Crash safety, proven with SIGKILL: a large run killed at several points never leaves a partial file under a
// result's name, and the next run cleans up after it (stale lock taken over, temporary files removed) and
// writes exactly the bytes of an uninterrupted run. A watcher polls the output directory during a run: the
// result is only ever the old complete file or the new complete one. The runs that are killed or watched, and
// the runs after a kill, are processes of their own; the uninterrupted runs go through main() in this process.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { cli, cliAsync, listFiles, model, runMain, writeFiles, type CliResult } from '../support/cli.js';

const ROWS = 400_000;
const BAD = (i: number) => i % 997 === 500;

// Deterministic data for linear_binary (a, b, c): every 997th row has a non-number, so a rejects file is
// written too (0.1% of the rows, under max_rejected 1%). About 12 MB in, 16 MB out: big enough that the
// input goes through the reader thread and the result is flushed many times.
function bigCsv(): string {
  let s = 42;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['id,a,b,c'];
  for (let i = 0; i < ROWS; i++) {
    const b = BAD(i) ? 'n/a?' : (next() * 10 - 5).toFixed(4);
    lines.push(`r${String(i).padStart(7, '0')},${(next() * 4).toFixed(3)},${b},${(next() * 2 - 1).toFixed(5)}`);
  }
  return `${lines.join('\n')}\n`;
}

const JOB = `model: ${model('linear_binary')}
input: data/big.csv
features: { columns: [a, b, c] }
passthrough: [id]
output: out/result.csv
errors: { max_rejected: '1%', rejects: out/rejects.csv }
`;

let dir: string;
let expected: { result: Buffer; rejects: Buffer };
const RESULT = () => path.join(dir, 'out/result.csv');
const REJECTS = () => path.join(dir, 'out/rejects.csv');
const temps = () => listFiles(dir).filter((f) => f.endsWith('.sb-tmp'));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Start a run; `SERVE_BATCH_FAILPOINT` holds it at a point when given.
function start(failpoint?: string) {
  return cliAsync(['run', path.join(dir, 'job.yaml'), '--log-format', 'json'], { cwd: dir, env: failpoint ? { SERVE_BATCH_FAILPOINT: failpoint } : {} });
}

// Poll until `cond` holds (every millisecond or so), or fail after `ms`.
async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

async function kill(run: ReturnType<typeof start>): Promise<CliResult> {
  run.child.kill('SIGKILL');
  const r = await run.done;
  expect(r.signal).toBe('SIGKILL');
  return r;
}

// The invariant after any kill: each result name is absent or holds the complete bytes.
function absentOrComplete(): { result: boolean; rejects: boolean } {
  const r = existsSync(RESULT());
  const j = existsSync(REJECTS());
  if (r) expect(sha(readFileSync(RESULT()))).toBe(sha(expected.result));
  if (j) expect(sha(readFileSync(REJECTS()))).toBe(sha(expected.rejects));
  return { result: r, rejects: j };
}

// The run after a kill, spawned as it would be: a process removes the temporary files of dead ones the first
// time it writes into a folder, so a fresh process is what proves that cleanup.
function rerun(): Record<string, unknown> & { warnings: string[] } {
  const r = cli(['run', path.join(dir, 'job.yaml'), '--json', '--log-format', 'json'], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
  expect(readFileSync(RESULT()).equals(expected.result)).toBe(true);
  expect(readFileSync(REJECTS()).equals(expected.rejects)).toBe(true);
  expect(temps()).toEqual([]);
  expect(existsSync(path.join(dir, '.serve-batch/locks/job.lock'))).toBe(false);
  expect(readdirSync(path.join(dir, '.serve-batch/inflight'))).toEqual([]);
  return JSON.parse(r.stdout);
}

describe('SIGKILL at any point', () => {
  beforeAll(async () => {
    dir = tempDir();
    writeFiles(dir, { 'data/big.csv': bigCsv(), 'job.yaml': JOB });
    const r = await runMain(['run', path.join(dir, 'job.yaml'), '--json', '--log-format', 'json'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout);
    expect(rec.inputs[0]).toMatchObject({ rows_in: ROWS, rows_rejected: Array.from({ length: ROWS }, (_, i) => i).filter(BAD).length, status: 'ok' });
    expected = { result: readFileSync(RESULT()), rejects: readFileSync(REJECTS()) };
  });

  // Each test starts with no results, whatever ran before it.
  beforeEach(() => {
    rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  });

  it('killed before any output, mid-write and just before the rename: never a partial result; the rerun cleans up and writes the same bytes', async () => {
    // 1. As soon as the run holds the job's lock: nothing written yet.
    let run = start();
    await until(() => existsSync(path.join(dir, '.serve-batch/locks/job.lock')), 'the lock');
    await kill(run);
    expect(absentOrComplete()).toEqual({ result: false, rejects: false });

    // 2. Mid-write: the result's temporary file holds more than a megabyte but not all of it.
    run = start();
    const partialTemp = () => {
      const name = existsSync(path.join(dir, 'out')) ? readdirSync(path.join(dir, 'out')).find((n) => n.startsWith('.result.csv.')) : undefined;
      const size = name ? statSync(path.join(dir, 'out', name), { throwIfNoEntry: false })?.size ?? 0 : 0;
      return size > 1 << 20 && size < expected.result.length;
    };
    await until(partialTemp, 'a partly written result');
    await kill(run);
    expect(absentOrComplete().result).toBe(false);
    const leftMidWrite = temps();
    expect(leftMidWrite.some((f) => f.startsWith('out/.result.csv.'))).toBe(true);

    // 3. Just before the rename: the temporary file is complete, the result name still absent.
    run = start('before-rename:out/result.csv:30000');
    await until(() => run.output().stderr.includes('failpoint before-rename'), 'the failpoint');
    const held = temps().filter((f) => f.startsWith('out/.result.csv.'));
    expect(held).toHaveLength(1); // the run removed the mid-write run's temp when it started (crash journal)
    expect(readFileSync(path.join(dir, held[0])).equals(expected.result)).toBe(true);
    expect(existsSync(RESULT())).toBe(false);
    await kill(run);
    // rejects are committed before their result, so they may stand alone; never partial
    expect(absentOrComplete().result).toBe(false);

    // The next run takes over the dead run's lock, removes its temp file and writes the same bytes.
    const rec = rerun();
    expect(rec.warnings.join('\n')).toMatch(/did not finish: removed 1 temporary file it left \(\.result\.csv\.\d+\.[0-9a-f]{8}\.sb-tmp\)/);

    // 4. After the result's rename, before the run record: the result is complete.
    rmSync(RESULT());
    run = start('before-rename:.serve-batch/runs/:30000');
    await until(() => run.output().stderr.includes('failpoint before-rename'), 'the failpoint');
    await kill(run);
    expect(absentOrComplete()).toEqual({ result: true, rejects: true });
    rerun();
  });

  it('a watcher never sees the result name with anything but the old complete file or the new complete one', async () => {
    mkdirSync(path.dirname(RESULT()));
    writeFileSync(RESULT(), 'old\n');
    const seen = new Map<number, string>();
    const run = start();
    let polls = 0;
    let finished = false;
    void run.done.then(() => (finished = true));
    while (!finished) {
      polls++;
      const s = statSync(RESULT(), { throwIfNoEntry: false });
      expect(s, 'the result name disappeared').toBeDefined();
      if (s && !seen.has(s.ino)) {
        // A file under the result's name is never written again: read each one once, when first seen.
        const bytes = readFileSync(RESULT());
        const kind = bytes.equals(Buffer.from('old\n')) ? 'old' : bytes.equals(expected.result) ? 'new' : `partial (${bytes.length} bytes)`;
        seen.set(s.ino, kind);
      }
      if (s) expect([4, expected.result.length]).toContain(s.size);
      await sleep(1);
    }
    const r = await run.done;
    expect(r.status, r.stderr).toBe(0);
    expect([...seen.values()]).toEqual(['old', 'new']);
    expect(polls).toBeGreaterThan(50);
    expect(temps()).toEqual([]);
  });

  it('an uninterrupted rerun is byte-identical: result, rejects, and the record but for its id and times', async () => {
    const runOnce = async () => {
      const r = await runMain(['run', path.join(dir, 'job.yaml'), '--json', '--log-format', 'json'], { cwd: dir });
      expect(r.status, r.stderr).toBe(0);
      return { rec: JSON.parse(r.stdout), result: readFileSync(RESULT()), rejects: readFileSync(REJECTS()) };
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(b.result.equals(a.result)).toBe(true);
    expect(b.rejects.equals(a.rejects)).toBe(true);
    const strip = (rec: Record<string, unknown> & { inputs: Record<string, unknown>[] }) => {
      const { run_id: _id, started_at: _s, ended_at: _e, duration_ms: _d, record: _r, profile, ...rest } = rec;
      // The profile file is named after the run id, like the record; its contents are the same.
      const { file, ...summary } = profile as { file: string };
      expect(path.basename(file)).toBe(`${rec.run_id}.profile.json`);
      return { ...rest, profile: summary, profileBytes: readFileSync(file), inputs: rec.inputs.map(({ duration_ms: _x, ...i }) => i) };
    };
    expect(strip(b.rec)).toEqual(strip(a.rec));
    expect(a.rec.run_id).not.toBe(b.rec.run_id);
  });
});
