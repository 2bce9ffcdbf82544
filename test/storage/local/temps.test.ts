// Temporary files of dead writers, removed by a later run; a live writer's are kept, and a pid that now
// belongs to an unrelated process does not keep a dead run's file.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeStaleTempsIn } from '../../../src/storage/local/temps.js';
import { isAlive } from '../../../src/util/process.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sb-temps-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ls = (d = dir) => readdirSync(d).sort();

// A pid that certainly belongs to no running process: a child that has exited and been reaped.
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  expect(r.status).toBe(0);
  expect(isAlive(r.pid as number)).toBe(false);
  return r.pid as number;
}

// Write a temp file last modified `agoMs` ago.
function put(name: string, agoMs = 0): void {
  const file = path.join(dir, name);
  writeFileSync(file, 'partial');
  if (agoMs > 0) {
    const at = new Date(Date.now() - agoMs);
    utimesSync(file, at, at);
  }
}

describe('removeStaleTempsIn (a whole directory)', () => {
  it("removes dead processes' temps of any target, keeps live ones and everything that is not our temp", async () => {
    const dead = deadPid();
    const names = {
      dead: `.out.csv.${dead}.0123abcd.sb-tmp`,
      deadOther: `.2026-01-01.csv.${dead}.0123abcd.sb-tmp`,
      deadDotted: `.out.csv.20250101.${dead}.0123abcd.sb-tmp`,
      live: `.out.csv.${process.pid}.89abcdef.sb-tmp`,
      liveDotted: `.out.csv.20250101.${process.pid}.0123abcd.sb-tmp`,
      notHex: `.out.csv.${dead}.0123abcz.sb-tmp`,
      notHidden: `out.csv.${dead}.0123abcd.sb-tmp`,
      final: 'out.csv',
    };
    for (const n of Object.values(names)) writeFileSync(path.join(dir, n), 'x');
    expect((await removeStaleTempsIn(dir)).sort()).toEqual([names.dead, names.deadDotted, names.deadOther].sort());
    expect(ls()).toEqual([names.final, names.live, names.liveDotted, names.notHex, names.notHidden].sort());
  });

  it('a directory that does not exist gives []', async () => {
    expect(await removeStaleTempsIn(path.join(dir, 'nope'))).toEqual([]);
  });

  it("removes a dead run's temp whose pid now belongs to an unrelated live process (written before that process started), keeps one it wrote", async () => {
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const pid = other.pid as number;
      expect(isAlive(pid)).toBe(true);
      const old = `.out.csv.${pid}.0123abcd.sb-tmp`;
      const its = `.out.csv.${pid}.89abcdef.sb-tmp`;
      put(old, 3_600_000);
      put(its);
      expect(await removeStaleTempsIn(dir)).toEqual([old]);
      expect(ls()).toEqual([its]);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it("removes a temp with this process's own pid written well before it started (a restarted container), keeps one written since", async () => {
    const old = `.out.csv.${process.pid}.0123abcd.sb-tmp`;
    const mine = `.out.csv.${process.pid}.89abcdef.sb-tmp`;
    put(old, Date.now() - performance.timeOrigin + 3_600_000);
    put(mine);
    expect(await removeStaleTempsIn(dir)).toEqual([old]);
    expect(ls()).toEqual([mine]);
  });
});
