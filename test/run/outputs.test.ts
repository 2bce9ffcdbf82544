// runJob() writing to outputs that are not regular files, and to paths that cannot hold a result: devices and
// FIFOs are written through (never replaced), a reader that goes away stops the run with exit 141, /proc and
// directories are refused before anything is scored, and a stop signal ends a wait for a reader. Real files,
// FIFOs, devices, reader processes and ONNX sessions, in process.
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import { runJob } from '../../src/run/run-job.js';
import { model } from '../support/cli.js';
import { fifoReader, makeFifo, nullDevice } from '../support/streams.js';
import { tempDir } from '../support/temp-dir.js';

// `rows` rows for linear_binary (columns a, b, c), with `bad` rows (a not a number) at the given 0-based rows.
function csv(rows: number, bad: number[] = []): string {
  let s = 'id,a,b,c\n';
  for (let i = 0; i < rows; i++) s += `r${i},${bad.includes(i) ? 'oops' : (i % 10) / 10},${(i % 7) / 7},${i % 3}\n`;
  return s;
}

// A job in `dir` over in/*.csv; `extra` is YAML appended (errors:, metrics_file:, batch_size:, state_dir:).
function job(dir: string, output: string, extra = '') {
  const stateDir = /^state_dir:/m.test(extra) ? '' : 'state_dir: state';
  const text = [`name: out-test`, `model: ${model('linear_binary')}`, 'input: in/*.csv', 'features: { columns: [a, b, c] }', 'passthrough: [id]', `output: ${JSON.stringify(output)}`, stateDir, extra].join('\n');
  return parseJob(text, path.join(dir, 'job.yaml'));
}

function inputs(dir: string, files: Record<string, string>): void {
  mkdirSync(path.join(dir, 'in'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, 'in', name), text);
}

const temps = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.sb-tmp'));
const lockOf = (dir: string) => path.join(dir, 'state/locks/out-test.lock');

describe('results, rejects and metrics on a character device', () => {
  it('are written through: every device stays a device, and no temporary file is left beside it', async () => {
    const d = tempDir();
    const [out, rejects, metrics] = ['o', 'r', 'm'].map((sub) => {
      mkdirSync(path.join(d, sub));
      return nullDevice(path.join(d, sub));
    });
    inputs(d, { 'a.csv': csv(50, [7]) });
    const j = job(d, out, `errors: { max_rejected: 5, rejects: ${JSON.stringify(rejects)} }\nmetrics_file: ${JSON.stringify(metrics)}`);
    const first = await runJob(j);
    expect([first.status, first.totals.rows_out, first.totals.rows_rejected, first.warnings]).toEqual(['ok', 49, 1, []]);
    // No rejects this time: an old rejects file would be removed, a device must not be.
    writeFileSync(path.join(d, 'in/a.csv'), csv(50));
    expect((await runJob(j)).status).toBe('ok');
    for (const dev of [out, rejects, metrics]) {
      expect(lstatSync(dev).isCharacterDevice()).toBe(true);
      expect(temps(path.dirname(dev))).toEqual([]);
    }
  });
});

describe('results on a FIFO', () => {
  it("the FIFO's reader gets exactly the bytes a regular file gets: CSV, gzipped CSV, Parquet", async () => {
    const d = tempDir();
    inputs(d, { 'a.csv': csv(3000), 'b.csv': csv(10) });
    for (const name of ['all.csv', 'all.csv.gz', 'all.parquet']) {
      const file = path.join(d, 'files', name);
      expect((await runJob(job(d, file))).error).toBeNull();
      const fifo = makeFifo(path.join(d, `fifo-${name}`));
      const read = fifoReader(fifo);
      const r = await runJob(job(d, fifo));
      expect([r.error, r.totals.rows_out]).toEqual([null, 3010]);
      const got = await read;
      const want = readFileSync(file);
      if (name.endsWith('.gz')) expect(gunzipSync(got).equals(gunzipSync(want))).toBe(true);
      else expect(got.equals(want)).toBe(true);
      expect(lstatSync(fifo).isFIFO()).toBe(true);
    }
  });

  it("a combined result with a failed input: the rows already sent stay, and the record says so; the other input's rows count", async () => {
    const d = tempDir();
    inputs(d, { 'a.csv': csv(20), 'b.csv': csv(20, [15]) });
    const fifo = makeFifo(path.join(d, 'results'));
    const read = fifoReader(fifo);
    const r = await runJob(job(d, fifo, 'batch_size: 4\nerrors: { max_rejected: 0 }'));
    const text = (await read).toString();
    expect([r.status, r.exit_code]).toEqual(['failed', 1]);
    expect(r.inputs.map((i) => [path.basename(i.path), i.status])).toEqual([
      ['a.csv', 'ok'],
      ['b.csv', 'failed'],
    ]);
    expect(r.inputs[1].error).toMatch(new RegExp(`^too many rejected rows: .* \\(rows already written to ${fifo} before the failure stay there\\)$`));
    // The header, a's 20 rows, and b's rows written before the limit was exceeded: the limit is checked after
    // each chunk of 4, so the chunk with the bad row 15 wrote its 3 good rows.
    expect(r.inputs[1].rows_out).toBe(15);
    expect(text.split('\n').filter(Boolean)).toHaveLength(1 + 20 + 15);
  });

  it('a reader that goes away stops the run: exit 141, the record says after how many rows, the lock is released', async () => {
    const d = tempDir();
    inputs(d, { 'a.csv': csv(60_000), 'b.csv': csv(10) });
    const fifo = makeFifo(path.join(d, 'results'));
    const head = spawn('head', ['-c', '100', fifo], { stdio: 'ignore' });
    const headDone = new Promise((resolve) => head.on('close', resolve));
    const r = await runJob(job(d, fifo));
    await headDone;
    expect([r.status, r.exit_code]).toEqual(['failed', 141]);
    expect(r.error).toMatch(new RegExp(`^the reader of ${fifo} closed it after [\\d,]+ result rows; the run stopped there$`));
    // b.csv was never started.
    expect(r.inputs.map((i) => [path.basename(i.path), i.status])).toEqual([['a.csv', 'failed']]);
    expect(existsSync(lockOf(d))).toBe(false);
    expect(readdirSync(path.join(d, 'state/runs/out-test'))).toHaveLength(1);
  });

  it('a stop signal while no process reads the FIFO ends the run: interrupted, the lock released, the FIFO left as it was', async () => {
    const d = tempDir();
    inputs(d, { 'a.csv': csv(10) });
    const fifo = makeFifo(path.join(d, 'nobody'));
    const stop = new AbortController();
    setTimeout(() => stop.abort('SIGTERM'), 300);
    const r = await runJob(job(d, fifo), { signal: stop.signal });
    expect([r.status, r.exit_code]).toEqual(['interrupted', 143]);
    expect(existsSync(lockOf(d))).toBe(false);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(temps(d)).toEqual([]);
  });
});

describe('paths that cannot hold a result', () => {
  // Before, Node's recursive mkdir spun forever under /proc, holding the lock.
  it('under /proc or /sys, or a directory: refused before scoring (exit 2), naming the YAML path; the lock released', { timeout: 20_000 }, async () => {
    const d = tempDir();
    inputs(d, { 'a.csv': csv(10) });
    mkdirSync(path.join(d, 'a-dir'));
    const cases: [string, string, string][] = [
      ['/proc/sb-no-such-dir/{input_stem}.csv', '', "cannot write /proc/sb-no-such-dir/a.csv: /proc is on the kernel's process file system (procfs), where no result file can be created: give a path on a disk (at output.path)"],
      ['/sys/kernel/sb.csv', '', "cannot write /sys/kernel/sb.csv: /sys/kernel is on the kernel's sysfs, where no result file can be created: give a path on a disk (at output.path)"],
      [path.join(d, 'a-dir'), '', `cannot write ${path.join(d, 'a-dir')}: it is a directory: give a file name (at output.path)`],
      [path.join(d, 'out.csv'), 'errors: { rejects: /proc/self/sb-rejects.csv }', "cannot write /proc/self/sb-rejects.csv: /proc/self is on the kernel's process file system (procfs), where no result file can be created: give a path on a disk (at errors.rejects)"],
    ];
    for (const [output, extra, error] of cases) {
      const r = await runJob(job(d, output, extra));
      expect([r.status, r.exit_code, r.error, r.totals.rows_in]).toEqual(['invalid', 2, error, 0]);
      expect(existsSync(lockOf(d))).toBe(false);
    }
  });

  it('a state_dir under /proc: exit 2 at once', { timeout: 20_000 }, async () => {
    const d = tempDir();
    inputs(d, { 'a.csv': csv(10) });
    const r = await runJob(job(d, path.join(d, 'out.csv'), 'state_dir: /proc/sb-no-such-dir/state'));
    expect([r.status, r.exit_code]).toEqual(['invalid', 2]);
    expect(r.error).toBe("cannot write the job's state in /proc/sb-no-such-dir/state: cannot create the directory /proc/sb-no-such-dir: /proc is on the kernel's process file system (procfs) (at state_dir)");
  });
});

describe('input files', () => {
  it('--limit closes the input file it stopped reading', async () => {
    const d = tempDir();
    inputs(d, { 'a.csv': csv(5000) });
    const r = await runJob(job(d, path.join(d, 'out.csv')), { limit: 3 });
    expect([r.status, r.totals.rows_out]).toEqual(['ok', 3]);
    const input = path.join(d, 'in/a.csv');
    const open = readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === input;
      } catch {
        return false;
      }
    });
    expect(open).toEqual([]);
  });
});
