// Standard output holds one stream: the result with `--output -`, or the record with `--json`. A rejects file
// named by any name of it ('-', /dev/stdout, /dev/fd/1, /proc/self/fd/1) would mix its CSV into that stream, so
// the run is refused before anything is read (exit 2, naming both) and prints nothing on standard output.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, model, runMain, tempDir, writeFiles } from '../support/cli.js';

const CSV = 'x1,x2\n1,2\n3,4\n5,five\n';

// A job whose third row is rejected, writing its rejects to `rejects` and its result to `output`.
function job(rejects: string, output = 'out/r.csv'): string {
  const d = tempDir();
  writeFiles(d, { 'in.csv': CSV, 'job.yaml': `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: ${output}\nerrors: { max_rejected: 5, rejects: '${rejects}' }\nstate_dir: state\n` });
  return d;
}

describe('two writers of standard output are refused', () => {
  it.each(['-', '/dev/stdout', '/dev/fd/1', '/proc/self/fd/1'])('rejects to %s with --output -', async (rejects) => {
    const d = job(rejects);
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--output', '-', '--log-format', 'text'], { cwd: d });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    const lines = expectOneLineError(r.stderr);
    expect(lines.filter((l) => l.includes('error'))).toEqual([
      expect.stringContaining(`the result for in.csv (output.path: -) and the rejected rows of in.csv (errors.rejects: ${rejects}) would both be written to standard output, mixed into one stream: send one of them to a file (at errors.rejects)`),
    ]);
  });

  it('rejects to /dev/stdout with --json, and --output /dev/fd/1 with --json', async () => {
    const d = job('/dev/stdout');
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--json', '--log-format', 'text'], { cwd: d });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('the run record (--json) and the rejected rows of in.csv (errors.rejects: /dev/stdout) would both be written to standard output');
    expect(r.stdout).not.toContain('x1,x2');
    const e = job('out/rejects.csv');
    const s = await runMain(['run', path.join(e, 'job.yaml'), '--json', '--output', '/dev/fd/1', '--log-format', 'text'], { cwd: e });
    expect(s.status, s.stderr).toBe(2);
    expect(s.stderr).toContain('the run record (--json) and the result for in.csv (output.path: /dev/fd/1) would both be written to standard output');
  });

  it('one stream alone on standard output is fine: rejects to /dev/stdout with the result in a file', async () => {
    const d = job('/dev/stdout');
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text'], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('5,five');
  });
});
