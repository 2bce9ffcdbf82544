import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { beginJournal, endJournal, journalHooks, journalPath, recoverJournal } from '../../src/run/journal.js';
import { tempDir } from '../support/temp-dir.js';

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid as number;
}

function journal(stateDir: string, pid: number, dirs: string[], host = hostname(), startedAt = '2026-01-01T00:00:00.000Z'): void {
  mkdirSync(path.join(stateDir, 'inflight'), { recursive: true });
  writeFileSync(journalPath(stateDir, 'job'), JSON.stringify({ pid, host, run_id: 'R0', started_at: startedAt, dirs }));
}

describe('run journal', () => {
  it('a run notes its directories and removes the note when it ends', async () => {
    const d = tempDir();
    await beginJournal(d, 'job', 'R1', ['/b', '/a', '/b']);
    expect(existsSync(journalPath(d, 'job'))).toBe(true);
    await endJournal(d, 'job', 'R1');
    expect(existsSync(journalPath(d, 'job'))).toBe(false);
  });

  it("the next run removes a dead run's temp files in every directory it noted, whatever their names", async () => {
    const d = tempDir();
    const pid = deadPid();
    const a = path.join(d, 'out', '2026-01-01');
    const b = path.join(d, 'rejects');
    mkdirSync(a, { recursive: true });
    mkdirSync(b);
    writeFileSync(path.join(a, `.result.csv.${pid}.0123abcd.sb-tmp`), 'partial');
    writeFileSync(path.join(a, 'kept.csv'), 'complete');
    writeFileSync(path.join(b, `.r.csv.${pid}.0123abcd.sb-tmp`), 'partial');
    journal(d, pid, [a, b, path.join(d, 'never-created')]);
    const said = await recoverJournal(d, 'job');
    expect(said).toBe(`run R0 (pid ${pid}, started 2026-01-01T00:00:00.000Z) did not finish: removed 2 temporary files it left (.result.csv.${pid}.0123abcd.sb-tmp, .r.csv.${pid}.0123abcd.sb-tmp)`);
    expect(readdirSync(a)).toEqual(['kept.csv']);
    expect(readdirSync(b)).toEqual([]);
    expect(existsSync(journalPath(d, 'job'))).toBe(false);
    expect(await recoverJournal(d, 'job')).toBeUndefined();
  });

  it('a dead run that left nothing is still reported; a live or foreign run is left alone', async () => {
    const d = tempDir();
    journal(d, deadPid(), []);
    expect(await recoverJournal(d, 'job')).toMatch(/did not finish: it left no temporary files$/);
    journal(d, process.pid, [], hostname(), new Date().toISOString());
    expect(await recoverJournal(d, 'job')).toBeUndefined();
    expect(existsSync(journalPath(d, 'job'))).toBe(true);
    journal(d, deadPid(), [], 'another-host');
    expect(await recoverJournal(d, 'job')).toBeUndefined();
  });

  it('a note of our own pid from before this process started is a dead run (a container restarted with the same pid)', async () => {
    const d = tempDir();
    journal(d, process.pid, [], hostname(), new Date(performance.timeOrigin - 60_000).toISOString());
    expect(await recoverJournal(d, 'job')).toMatch(new RegExp(`^run R0 \\(pid ${process.pid}, .*\\) did not finish: it left no temporary files$`));
  });

  it("notes a run's pending uploads while they last, and keeps those a store would not abort past the run's end", async () => {
    const d = tempDir();
    const read = () => JSON.parse(readFileSync(journalPath(d, 'job'), 'utf8')) as { pending: { url: string; id: string }[]; ended?: boolean };
    await beginJournal(d, 'job', 'R1', []);
    const hooks = journalHooks(d, 'job', 'R1');
    await Promise.all([hooks.pendingStarted!({ url: 's3://b/one.csv', id: 'u1' }), hooks.pendingStarted!({ url: 's3://b/two.csv', id: 'u2' })]);
    expect(read().pending).toEqual([
      { url: 's3://b/one.csv', id: 'u1' },
      { url: 's3://b/two.csv', id: 'u2' },
    ]);
    await hooks.pendingEnded!({ url: 's3://b/one.csv', id: 'u1' });
    expect(read().pending).toEqual([{ url: 's3://b/two.csv', id: 'u2' }]);
    // The run ends with an upload still noted: the note stays, marked ended, and the next run's note carries it.
    await endJournal(d, 'job', 'R1');
    expect(read()).toMatchObject({ ended: true, pending: [{ url: 's3://b/two.csv', id: 'u2' }] });
    await beginJournal(d, 'job', 'R2', []);
    expect(read()).toMatchObject({ run_id: 'R2', pending: [{ url: 's3://b/two.csv', id: 'u2' }] });
    expect(read().ended).toBeUndefined();
  });

  it("a dead run's uploads are aborted by the next run, which says which", async () => {
    const d = tempDir();
    const pid = deadPid();
    mkdirSync(path.join(d, 'inflight'), { recursive: true });
    // A backend without uploads to abort (local paths) has nothing left: the entry counts as aborted.
    writeFileSync(journalPath(d, 'job'), JSON.stringify({ pid, host: hostname(), run_id: 'R0', started_at: '2026-01-01T00:00:00.000Z', dirs: [], pending: [{ url: path.join(d, 'x.csv'), id: 'u1' }] }));
    expect(await recoverJournal(d, 'job')).toBe(`run R0 (pid ${pid}, started 2026-01-01T00:00:00.000Z) did not finish: it left no temporary files; aborted 1 multipart upload it left (${path.join(d, 'x.csv')})`);
    expect(existsSync(journalPath(d, 'job'))).toBe(false);
  });
});
