import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { findJobFiles, loadJobSet } from '../../src/schedule/jobs.js';

const ok = async () => ({ problems: [], warnings: [] });

// A directory of job files.
function jobsDir(files: Record<string, string>): string {
  const dir = tempDir('sb-jobs-');
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}
const JOB = (name: string, extra = '') => `name: ${name}\nmodel: m.onnx\ninput: in/*.csv\nfeatures: {columns: [a]}\noutput: out.csv\n${extra}`;

describe('findJobFiles', () => {
  it('takes *.yaml and *.yml from directories, sorted, skipping hidden files; files as given', async () => {
    const dir = jobsDir({ 'b.yaml': '', 'a.yml': '', '.hidden.yaml': '', 'notes.txt': '' });
    mkdirSync(path.join(dir, 'sub'));
    const r = await findJobFiles([dir, path.join(dir, 'notes.txt')]);
    expect(r.files.map((f) => path.basename(f))).toEqual(['a.yml', 'b.yaml', 'notes.txt']);
    expect(r.problems).toEqual([]);
  });

  it('reports missing paths; an empty directory is no problem (the scheduler stays up idle), but is said', async () => {
    const empty = jobsDir({});
    const r = await findJobFiles(['/no/such/jobs', empty]);
    expect(r.problems).toEqual(['/no/such/jobs: no such file or directory']);
    expect(r.unreadable).toEqual(['/no/such/jobs: no such file or directory']);
    expect(r.empty).toEqual([empty]);
    const set = await loadJobSet([empty], async () => ({ problems: [], warnings: [] }));
    expect([set.problems, set.warnings]).toEqual([[], [{ file: empty, message: 'no job files (*.yaml, *.yml) in this directory' }]]);
  });
});

describe('loadJobSet', () => {
  it('collects every problem: invalid files, failed model checks, duplicate names', async () => {
    const dir = jobsDir({
      'a.yaml': JOB('a', 'schedule: "0 2 * * *"'),
      'b.yaml': JOB('b', 'schedule: "0 99 * * *"'),
      'c.yaml': JOB('a'),
      'd.yaml': JOB('d'),
    });
    const set = await loadJobSet([dir], async (j) => (j.name === 'd' ? { problems: ['model not found: m.onnx (at model.path)'], warnings: [] } : { problems: [], warnings: ['w'] }));
    expect(set.jobs.map((j) => j.name)).toEqual(['a']);
    expect(set.problems).toEqual([
      expect.stringMatching(/b\.yaml:6:11: invalid cron expression "0 99 \* \* \*": field 2 \(hour\) value 99 is out of range 0-23 \(at schedule\)$/),
      expect.stringMatching(/c\.yaml: job name 'a' is also used by .*a\.yaml; names must be unique/),
      expect.stringMatching(/d\.yaml: model not found: m\.onnx \(at model\.path\)$/),
    ]);
    expect(set.warnings.map((w) => w.message)).toEqual(['w', 'w']);
  });

  it('on reload, a file that became invalid keeps its previous version', async () => {
    const dir = jobsDir({ 'a.yaml': JOB('a', 'schedule: "0 2 * * *"'), 'b.yaml': JOB('b') });
    const first = await loadJobSet([dir], ok);
    writeFileSync(path.join(dir, 'a.yaml'), JOB('a', 'schedule: "0 2 * * *"\nbogus: 1'));
    writeFileSync(path.join(dir, 'b.yaml'), JOB('b', 'schedule: "0 3 * * *"'));
    const second = await loadJobSet([dir], ok, first.byFile);
    expect(second.problems).toEqual([expect.stringMatching(/a\.yaml:7:1: unknown key 'bogus'/)]);
    expect(second.jobs.map((j) => [j.name, j.schedule?.cron])).toEqual([['a', '0 2 * * *'], ['b', '0 3 * * *']]);
    expect(second.jobs[0]).toBe(first.jobs[0]);
  });

  it('on reload, an alias bomb or an unreadable file keeps its previous version while the other files reload', async () => {
    const dir = jobsDir({ 'a.yaml': JOB('a', 'schedule: "0 2 * * *"'), 'b.yaml': JOB('b', 'schedule: "0 2 * * *"'), 'c.yaml': JOB('c', 'schedule: "0 2 * * *"') });
    const first = await loadJobSet([dir], ok);
    const bomb = ['x: &x ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'ijklmno'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'xijklmn'[i]}`).join(',')}]`)].join('\n');
    writeFileSync(path.join(dir, 'a.yaml'), `${JOB('a', 'schedule: "0 4 * * *"')}\n${bomb}\n`);
    rmSync(path.join(dir, 'b.yaml'));
    mkdirSync(path.join(dir, 'b.yaml')); // no longer a file that can be read
    writeFileSync(path.join(dir, 'c.yaml'), JOB('c', 'schedule: "0 3 * * *"'));
    const second = await loadJobSet([dir], ok, first.byFile);
    expect(second.problems).toEqual([
      expect.stringMatching(/a\.yaml:8:8: YAML aliases expand to too much data/),
      expect.stringMatching(/b\.yaml is a directory/),
    ]);
    expect(second.unreadable).toEqual([]);
    expect(second.jobs.map((j) => [j.name, j.schedule?.cron])).toEqual([['a', '0 2 * * *'], ['b', '0 2 * * *'], ['c', '0 3 * * *']]);
    expect(second.jobs[0]).toBe(first.jobs[0]);
    expect(second.jobs[1]).toBe(first.jobs[1]);
  });
});
