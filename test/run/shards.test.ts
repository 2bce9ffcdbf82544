import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { snapRowGroups, snapWhole } from '../../src/io/split.js';
import { buildPlan, parseShard, placeCuts, shardStateName, shardTag, wantedCuts, type PlacedCut, type PlanFile, type ShardPlan } from '../../src/run/shards.js';

const MiB = 1 << 20;

// A plan where every file can be cut anywhere (a cut stays where it is wanted) or nowhere.
function plan(files: PlanFile[], count: number, cuttable: (f: number) => boolean = () => true): ShardPlan {
  const placed = new Map<number, PlacedCut>();
  for (const w of wantedCuts(files, count)) {
    placed.set(w.cut, { file: w.file, at: cuttable(w.file) ? { offset: w.offset, line: 1 } : snapWhole(files[w.file].bytes, w.offset) });
  }
  return buildPlan(files, count, placeCuts(files, count, placed));
}

const bytesOf = (p: ShardPlan) => p.shards.map((s) => s.reduce((n, x) => n + x.bytes, 0));
const names = (p: ShardPlan) => p.shards.map((s) => s.map((x) => (x.range ? `${x.path}[${x.range.start.offset},${x.range.end.offset})` : x.path)));

describe('parseShard', () => {
  it('reads i/N with 0 ≤ i < N', () => {
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShard('6/7')).toEqual({ index: 6, count: 7 });
    expect(parseShard(' 2 / 8 ')).toEqual({ index: 2, count: 8 });
  });
  it('says what is wrong otherwise', () => {
    expect(parseShard('7/7')).toBe("the shard index counts from 0: i/N needs 0 ≤ i < N, so the last of 7 is 6/7 (got '7/7')");
    expect(parseShard('1/0')).toBe("N must be a whole number, 1 or more (got '1/0')");
    expect(parseShard('3')).toBe("give the worker's shard as i/N with 0 ≤ i < N, e.g. 2/8 (got '3')");
    expect(parseShard('-1/3')).toMatch(/^give the worker's shard as i\/N/);
    expect(parseShard('1/99999')).toBe("N must be at most 10000 (got '1/99999')");
  });
});

describe('names', () => {
  it('pads {shard} to the width of the last index and names state per shard', () => {
    expect(shardTag({ index: 3, count: 7 })).toBe('3');
    expect(shardTag({ index: 3, count: 12 })).toBe('03');
    expect(shardTag({ index: 0, count: 1 })).toBe('0');
    expect(shardTag({ index: 42, count: 1000 })).toBe('042');
    expect(shardStateName('churn', { index: 3, count: 12 })).toBe('churn.shard-3-of-12');
  });
});

describe('the shard plan', () => {
  it('one shard holds every file whole', () => {
    const p = plan([{ path: 'a', bytes: 10 }, { path: 'b', bytes: 20 }], 1);
    expect(names(p)).toEqual([['a', 'b']]);
  });

  it('cuts the inputs laid end to end at k·total/N into contiguous shards', () => {
    const files = [10, 10, 10, 10, 10, 10].map((bytes, i) => ({ path: `f${i}`, bytes }));
    expect(names(plan(files, 3, () => false))).toEqual([['f0', 'f1'], ['f2', 'f3'], ['f4', 'f5']]);
    // Cuts at 15, 30 and 45: the middle of f1 and f4 goes to their ends, 30 is the start of f3.
    expect(names(plan(files, 4, () => false))).toEqual([['f0', 'f1'], ['f2'], ['f3', 'f4'], ['f5']]);
  });

  it('splits one large cuttable file into N ranges of equal bytes', () => {
    const p = plan([{ path: 'big', bytes: 7 * MiB }], 7);
    expect(bytesOf(p)).toEqual(Array(7).fill(MiB));
    expect(p.shards.every((s) => s.length === 1 && s[0].range)).toBe(true);
    expect(p.shards[0][0].range?.start.offset).toBe(0);
    expect(p.shards[6][0].range?.end.offset).toBe(7 * MiB);
  });

  it('gives a file that cannot be cut to one worker, whole', () => {
    const p = plan([{ path: 'gz', bytes: 100 }, ...Array.from({ length: 10 }, (_, i) => ({ path: `s${i}`, bytes: 1 }))], 4, (f) => f !== 0);
    // The cuts at 27.5, 55 and 82.5 all fall inside the gzip file: to its start, its end, its end.
    const small = Array.from({ length: 10 }, (_, i) => `s${i}`);
    expect(names(p)).toEqual([[], ['gz'], [], small]);
  });

  it('more shards than files: some shards get nothing', () => {
    const p = plan([{ path: 'a', bytes: 5 }, { path: 'b', bytes: 5 }], 7, () => false);
    expect(p.shards.flat().map((x) => x.path)).toEqual(['a', 'b']);
    expect(p.shards.filter((s) => s.length === 0)).toHaveLength(5);
  });

  it('empty files and zero bytes in total', () => {
    expect(names(plan([{ path: 'e', bytes: 0 }, { path: 'a', bytes: 4 }, { path: 'z', bytes: 0 }], 2, () => false))).toEqual([['e', 'a'], ['z']]);
    expect(names(plan([{ path: 'e', bytes: 0 }], 3))).toEqual([['e'], [], []]);
    expect(names(plan([], 3))).toEqual([[], [], []]);
  });

  it('does not depend on which worker computes it, and the hash names the listing', () => {
    const files = [{ path: 'a', bytes: 3 * MiB }, { path: 'b', bytes: 5 }];
    expect(plan(files, 3).hash).toBe(plan(files.map((f) => ({ ...f })), 3).hash);
    expect(plan(files, 3).hash).not.toBe(plan([...files, { path: 'c', bytes: 1 }], 3).hash);
    expect(plan(files, 3).hash).not.toBe(plan(files, 4).hash);
  });

  it('property: every byte of every file is in exactly one piece, in input order; shards are balanced within one uncut piece', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ bytes: fc.integer({ min: 0, max: 50 }), cuttable: fc.boolean() }), { maxLength: 12 }), fc.integer({ min: 1, max: 9 }), (raw, count) => {
        const files = raw.map((r, i) => ({ path: `f${String(i).padStart(2, '0')}`, bytes: r.bytes }));
        const p = plan(files, count, (f) => raw[f].cuttable);
        expect(p.shards).toHaveLength(count);
        // Concatenated in shard order, the pieces cover each file from 0 to its end, files in order.
        const flat = p.shards.flat();
        let f = -1;
        let at = 0;
        for (const piece of flat) {
          const start = piece.range?.start.offset ?? 0;
          if (start === 0) {
            if (f >= 0) expect(at).toBe(files[f].bytes);
            f++;
            at = 0;
            expect(piece.path).toBe(files[f].path);
          }
          expect(start).toBe(at);
          at = piece.range?.end.offset ?? piece.bytes;
          expect(piece.bytes).toBe(at - start);
        }
        expect(f).toBe(files.length - 1);
        if (f >= 0) expect(at).toBe(files[f].bytes);
        // Balance: no shard holds more than total/N plus the largest file that could not be cut (plus 1).
        const total = files.reduce((n, x) => n + x.bytes, 0);
        const uncut = Math.max(0, ...files.filter((_, i) => !raw[i].cuttable).map((x) => x.bytes));
        for (const b of bytesOf(p)) expect(b).toBeLessThanOrEqual(Math.ceil(total / count) + uncut + 1);
        // A shard holds at most one piece of any file.
        for (const s of p.shards) expect(new Set(s.map((x) => x.path)).size).toBe(s.length);
      }),
    );
  });
});

describe('placing cuts', () => {
  it('snapWhole: the nearer end of the file', () => {
    expect(snapWhole(10, 4)).toEqual({ offset: 0 });
    expect(snapWhole(10, 5)).toEqual({ offset: 10 });
    expect(snapWhole(10, 9)).toEqual({ offset: 10 });
  });

  it('snapRowGroups: the nearest row-group start, with the rows before it', () => {
    const starts = [4, 100, 200, 300];
    const rows = [10, 10, 10, 10];
    expect(snapRowGroups(starts, rows, 420, 140)).toEqual({ offset: 100, group: 1, row: 10 });
    expect(snapRowGroups(starts, rows, 420, 160)).toEqual({ offset: 200, group: 2, row: 20 });
    expect(snapRowGroups(starts, rows, 420, 30)).toEqual({ offset: 0, group: 0, row: 0 });
    expect(snapRowGroups(starts, rows, 420, 400)).toEqual({ offset: 420, group: 4, row: 40 });
  });
});
