import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { beginJournal, endJournal, journalPath, recoverJournal } from '../../src/run/journal.js';
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
});
