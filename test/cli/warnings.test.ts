// Warnings found while a run ends — the metrics file or the record could not be written — are said on stderr
// like the run's other warnings, with or without -q, besides going into the record; through main().
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { model, runMain, tempDir, writeFiles } from '../support/cli.js';

// A job whose metrics file lies under /proc, where no file can be created.
function job(output = 'out/r.csv'): string {
  const d = tempDir();
  writeFiles(d, { 'in.csv': 'x1,x2\n1,2\n3,4\n', 'job.yaml': `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: '${output}'\nstate_dir: state\nmetrics_file: /proc/no-such-dir/m.prom\n` });
  return d;
}

const WARNING = /^warning: the metrics file could not be written: .*\/proc\/no-such-dir\/m\.prom/m;

describe('a metrics file that cannot be written', () => {
  it.each([[[]], [['-q']]])('is a warning on stderr of run %j, and in the record', async (extra) => {
    const d = job();
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text', '--json', ...extra], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(WARNING);
    expect(JSON.parse(r.stdout).warnings).toEqual([expect.stringMatching(/^the metrics file could not be written/)]);
  });

  it('is a warning on stderr of merge', async () => {
    const d = job('out/part-{shard}.csv');
    for (const i of [0, 1]) expect((await runMain(['run', 'job.yaml', '--shard', `${i}/2`, '-q'], { cwd: d })).status).toBe(0);
    const r = await runMain(['merge', 'job.yaml', '--shards', '2', '--log-format', 'text', '-q'], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(WARNING);
  });
});

describe('file names in text logs', () => {
  it('a newline or an escape sequence in an input name is shown escaped: no forged line, nothing for the terminal', async () => {
    const d = tempDir();
    writeFiles(d, {
      'in/a\nerror: forged line.csv': 'x1,x2\n1,2\n',
      'in/b\x1b[2J\x9b31m.csv': 'x1,x2\n1,2\n',
      'job.yaml': `model: ${model('regressor')}\ninput: 'in/*.csv'\nfeatures: { columns: [x1, x2] }\noutput: 'out/{input_stem}.r.csv'\nstate_dir: state\n`,
    });
    for (const command of ['run', 'validate']) {
      const r = await runMain([command, 'job.yaml', '--log-format', 'text'], { cwd: d });
      expect(r.status, r.stderr).toBe(0);
      const said = r.stderr + r.stdout;
      expect(said).not.toMatch(/^error: forged/m);
      expect(said).not.toMatch(/[\x1b\x9b]/);
      if (command === 'run') expect(r.stderr).toContain('in/a\\nerror: forged line.csv');
    }
  });
});
