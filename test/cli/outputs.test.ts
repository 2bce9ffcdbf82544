// The real CLI in real shell pipelines: a reader that closes standard output (`| head -1`) stops the run with
// exit 141 and one line, standard error or a --json reader going away is no crash, `--output >(gzip > x)`
// writes through the shell's descriptor, and SIGTERM ends a run that waits for a reader (a FIFO nobody opens,
// a pipe nobody reads), releasing the lock.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { expectOneLineError } from '../support/cli.js';
import { makeFifo } from '../support/streams.js';
import { BIN, runRecords, tempDir, until, writeCsv, writeJob } from '../e2e/helpers.js';

// Run `script` in bash in `dir`, with $SB the CLI; exit status, stdout and stderr.
function bash(dir: string, script: string) {
  const r = spawnSync('bash', ['-c', script], { cwd: dir, env: { ...process.env, NO_COLOR: '1', SB: `${process.execPath} ${BIN}` }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// `rows` rows of data in dir/in/data.csv.
function writeCsvIn(dir: string, rows: number): void {
  mkdirSync(path.join(dir, 'in'), { recursive: true });
  writeCsv(path.join(dir, 'in/data.csv'), rows);
}

// A job `name` in a new directory over in/data.csv with `rows` rows.
function setup(name: string, rows: number, output = `out/${name}.csv`) {
  const dir = tempDir();
  writeCsvIn(dir, rows);
  writeJob(dir, name, { input: 'in/data.csv', output });
  return { dir, lock: path.join(dir, `state/locks/${name}.lock`) };
}

describe('a reader that closes standard output', () => {
  it('`run --output - | head -1`: exit 141 under pipefail, one line on stderr, the lock released, a record that says so', () => {
    const dir = tempDir();
    writeCsvIn(dir, 50_000);
    writeJob(dir, 'piped', { input: 'in/data.csv' });
    const r = bash(dir, 'set -o pipefail; $SB run piped.yaml --output - --log-format text | head -1');
    expect(r.status).toBe(141);
    expect(r.stdout).toBe('id,label,probabilities_0,probabilities_1\n');
    const lines = expectOneLineError(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: job piped: failed — the reader of standard output closed it after [\d,]+ result rows; the run stopped there$/);
    expect(existsSync(path.join(dir, 'state/locks/piped.lock'))).toBe(false);
    const [record] = runRecords(path.join(dir, 'state'), 'piped');
    expect([record.status, record.exit_code]).toEqual(['failed', 141]);
    expect(record.error).toMatch(/^the reader of standard output closed it after [\d,]+ result rows; the run stopped there$/);
  });

  it('--json to a reader that closed: exit 141, the results and the record still written; no stack', () => {
    const dir = tempDir();
    writeCsvIn(dir, 100);
    writeJob(dir, 'json', { input: 'in/data.csv' });
    const r = bash(dir, '$SB run json.yaml --json --log-format text | (exec 0<&-; sleep 1); echo "status ${PIPESTATUS[0]}"');
    expect(r.stdout).toBe('status 141\n');
    expectOneLineError(r.stderr);
    expect(readFileSync(path.join(dir, 'out/json/data.csv'), 'utf8').split('\n')).toHaveLength(102);
    expect(runRecords(path.join(dir, 'state'), 'json').map((x) => x.status)).toEqual(['ok']);
  });

  it('log lines to a closed standard error: the run goes on and exits 0', () => {
    const dir = tempDir();
    writeCsvIn(dir, 100);
    writeJob(dir, 'quiet', { input: 'in/data.csv' });
    const r = bash(dir, '$SB run quiet.yaml --log-format json 2>&1 >/dev/null | (exec 0<&-; sleep 1); echo "status ${PIPESTATUS[0]}"');
    expect(r.stdout).toBe('status 0\n');
    expect(readFileSync(path.join(dir, 'out/quiet/data.csv'), 'utf8').split('\n')).toHaveLength(102);
    expect(runRecords(path.join(dir, 'state'), 'quiet').map((x) => x.status)).toEqual(['ok']);
  });
});

describe('stream outputs through the shell', () => {
  it('`--output >(gzip > x.gz)` writes through the descriptor: the same rows as a file run', () => {
    const dir = tempDir();
    writeCsvIn(dir, 2000);
    writeJob(dir, 'subst', { input: 'in/data.csv' });
    const r = bash(dir, '$SB run subst.yaml --output >(gzip > piped.csv.gz) --log-format text && wait $! && $SB run subst.yaml --log-format text');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/→ \/dev\/fd\/\d+: 2,000 rows/);
    expect(gunzipSync(readFileSync(path.join(dir, 'piped.csv.gz'))).equals(readFileSync(path.join(dir, 'out/subst/data.csv')))).toBe(true);
  });
});

describe('SIGTERM while waiting for a reader', () => {
  // Start the CLI, wait until it holds the lock (and a moment more, to be inside the wait), send SIGTERM.
  async function terminated(dir: string, lock: string, args: string[], stdout: 'pipe' | 'ignore') {
    const child = spawn(process.execPath, [BIN, 'run', ...args, '--log-format', 'json'], { cwd: dir, stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const done = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    await until(() => existsSync(lock), 20_000, 'the run to take the lock');
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
    return { ...(await done), stderr };
  }

  it('a FIFO that no process opens: exit 143, the lock released, the FIFO left as it was', async () => {
    const { dir, lock } = setup('fifo', 10, 'nobody.csv');
    makeFifo(path.join(dir, 'nobody.csv'));
    const r = await terminated(dir, lock, ['fifo.yaml'], 'ignore');
    expect([r.code, r.signal]).toEqual([143, null]);
    expect(existsSync(lock)).toBe(false);
    expect(lstatSync(path.join(dir, 'nobody.csv')).isFIFO()).toBe(true);
    expect(runRecords(path.join(dir, 'state'), 'fifo').map((x) => [x.status, x.exit_code])).toEqual([['interrupted', 143]]);
  });

  it('standard output to a pipe nobody reads: exit 143, the lock released', async () => {
    const { dir, lock } = setup('stalled', 50_000);
    // The test never reads the child's stdout: the pipe fills and the run waits.
    const r = await terminated(dir, lock, ['stalled.yaml', '--output', '-'], 'pipe');
    expect([r.code, r.signal]).toEqual([143, null]);
    expect(existsSync(lock)).toBe(false);
    expect(runRecords(path.join(dir, 'state'), 'stalled').map((x) => [x.status, x.exit_code])).toEqual([['interrupted', 143]]);
  });
});
