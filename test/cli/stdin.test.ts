// Standard input, read by this process's main thread and parsed in a reader thread, with the real CLI over
// real pipes: the same results, rejects and counts as the same bytes read from a file (read here on the main
// thread, being small), gzip data too; a stream's rows written while it stays open; a stop while it is open.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, cliAsync, expectOneLineError, model, tempDir, type CliResult } from '../support/cli.js';

const started: ReturnType<typeof cliAsync>[] = [];
afterEach(() => {
  for (const run of started.splice(0)) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
});

// A job over the fixture regressor (x1, x2 → variable) with an id passed through and rejects kept.
function setUp(extra = ''): { dir: string; job: string } {
  const dir = tempDir();
  const job = path.join(dir, 'job.yaml');
  writeFileSync(job, `name: piped\nmodel: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\npassthrough: [id]\noutput: out.csv\nstate_dir: state\nerrors: { max_rejected: 100%, rejects: rejects.csv }\n${extra}`);
  return { dir, job };
}

// 150,000 rows (~2.6 MB: more than the blocks the main thread hands on at once), every 997th one bad.
function rows(): string {
  const lines = ['id,x1,x2'];
  for (let i = 0; i < 150_000; i++) lines.push(i % 997 === 5 ? `r${i},oops,1` : `r${i},${(i % 89) / 8},${(i % 13) - 6}`);
  return `${lines.join('\n')}\n`;
}

// What a run wrote: its result and rejects files, and its record's counts.
function written(dir: string, r: CliResult): { out: string; rejects: string; counts: unknown } {
  expect(r.status, r.stderr).toBe(0);
  const runs = path.join(dir, 'state/runs/piped');
  const record = readdirSync(runs).find((f) => !f.includes('profile')) as string;
  const counts = (JSON.parse(readFileSync(path.join(runs, record), 'utf8')) as { totals: unknown }).totals;
  return { out: readFileSync(path.join(dir, 'out.csv'), 'utf8'), rejects: readFileSync(path.join(dir, 'rejects.csv'), 'utf8'), counts };
}

describe('standard input', () => {
  it('gives the results, rejects (with their lines) and counts of the same bytes read from a file, gzip data too', () => {
    const text = rows();
    const file = setUp();
    writeFileSync(path.join(file.dir, 'in.csv'), text);
    const expected = written(file.dir, cli(['run', file.job], { cwd: file.dir }));
    expect(expected.counts).toMatchObject({ rows_in: 150_000, rows_rejected: 151 });
    expect(expected.rejects).toContain(',7,'); // the first bad row, on line 7
    for (const input of [Buffer.from(text), gzipSync(text)]) {
      const piped = setUp();
      const got = written(piped.dir, cli(['run', piped.job, '--input', '-', '--input-format', 'csv'], { cwd: piped.dir, input }));
      expect(got.out).toBe(expected.out);
      expect(got.rejects.replaceAll('stdin', 'in.csv')).toBe(expected.rejects);
      expect(got.counts).toEqual(expected.counts);
    }
  });

  it('fails at once on a bad header while the stream stays open: exit 1, one line, the process ends', async () => {
    const { dir, job } = setUp();
    const run = cliAsync(['run', job, '--input', '-', '--log-format', 'json'], { cwd: dir, stdin: 'pipe' });
    started.push(run);
    run.child.stdin?.write('id,x1\na,1\n');
    const r = await run.done;
    expect(r.status).toBe(1);
    expect(expectOneLineError(r.stderr).join('\n')).toContain("column 'x2' is not in the header");
  });

  it("writes a chunk's rows while the stream stays open; SIGTERM then stops the run: exit 143, the record says why", async () => {
    const { dir, job } = setUp('batch_size: 2\n');
    const run = cliAsync(['run', job, '--input', '-', '--output', '-', '--log-format', 'json'], { cwd: dir, stdin: 'pipe' });
    started.push(run);
    run.child.stdin?.write('id,x1,x2\na,1,1\nb,2,0\n');
    // The first chunk's two rows come out while standard input is still open.
    while (!run.output().stdout.includes('\nb,')) {
      if (run.child.exitCode !== null) throw new Error(`the CLI ended: ${run.output().stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(run.output().stdout).toBe('id,variable\na,2.5\nb,6\n');
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.status ?? 128 + constants.signals[r.signal as NodeJS.Signals]).toBe(143);
    expectOneLineError(r.stderr);
    const runs = path.join(dir, 'state/runs/piped');
    const record = JSON.parse(readFileSync(path.join(runs, readdirSync(runs)[0]), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ status: 'interrupted', exit_code: 143, error: 'interrupted by SIGTERM: reading stdin had not come back 5 s later and was left running; no partial results were kept' });
  });
});
