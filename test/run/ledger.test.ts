import { mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { parseJob } from '../../src/job/load.js';
import { decide, jobConfigHash, Ledger, ledgerPath, sha256Of, stableJson, type LedgerEntry } from '../../src/run/ledger.js';
import { openSource } from '../../src/storage/source.js';
import { tempDir } from '../support/temp-dir.js';

const entry = (over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  path: '/in/a.csv',
  size: 100,
  mtime_ms: 1000,
  sha256: 'aaa',
  model_sha256: 'm1',
  config_hash: 'c1',
  run_id: 'R1',
  scored_at: '2026-01-01T00:00:00.000Z',
  output: '/out/a.csv',
  rows_in: 3,
  rows_out: 3,
  rows_rejected: 0,
  ...over,
});

describe('decide', () => {
  it('scores an input it has no entry for', () => {
    expect(decide(undefined, { size: 1, mtimeMs: 1 }, 'm1', 'c1')).toEqual({ action: 'score', reason: 'new input' });
  });

  it('scores again after a model or job settings change, without hashing', () => {
    expect(decide(entry(), { size: 100, mtimeMs: 1000 }, 'm2', 'c1')).toMatchObject({ action: 'score', reason: expect.stringContaining('the model changed') });
    expect(decide(entry(), { size: 100, mtimeMs: 1000 }, 'm1', 'c2')).toMatchObject({ action: 'score', reason: expect.stringContaining("the job's settings changed") });
  });

  it('scores again when the size differs, without hashing', () => {
    expect(decide(entry(), { size: 101, mtimeMs: 1000 }, 'm1', 'c1')).toMatchObject({ action: 'score', reason: expect.stringContaining('100 → 101 bytes') });
  });

  it('asks for the sha256 when the size is the same, even with the same mtime', () => {
    expect(decide(entry(), { size: 100, mtimeMs: 1000 }, 'm1', 'c1')).toEqual({ action: 'hash' });
    expect(decide(entry(), { size: 100, mtimeMs: 2000 }, 'm1', 'c1')).toEqual({ action: 'hash' });
  });

  it('the sha256 decides: same bytes skip (a touched mtime too), other bytes score', () => {
    expect(decide(entry(), { size: 100, mtimeMs: 1000, sha256: 'aaa' }, 'm1', 'c1')).toEqual({ action: 'skip', reason: 'already scored by run R1, unchanged (same sha256, model and job settings)' });
    expect(decide(entry(), { size: 100, mtimeMs: 5000, sha256: 'aaa' }, 'm1', 'c1')).toMatchObject({ action: 'skip', reason: expect.stringContaining('only its modification time changed') });
    expect(decide(entry(), { size: 100, mtimeMs: 1000, sha256: 'bbb' }, 'm1', 'c1')).toMatchObject({ action: 'score', reason: expect.stringContaining('same size, other sha256') });
  });
});

describe('jobConfigHash', () => {
  const base = {
    model: 'm.onnx',
    input: 'in/*.csv',
    features: '{ columns: [a, b] }',
    output: "'out/{input_stem}.csv'",
  };
  const hashOf = (extra: Record<string, string>, format: 'csv' | 'tsv' = 'csv') => {
    const all = { ...base, ...extra };
    const text = Object.entries(all)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n');
    return jobConfigHash(parseJob(text, '/jobs/job.yaml', {}), format);
  };

  it('is stable and ignores what does not change results', () => {
    const h = hashOf({});
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOf({})).toBe(h);
    for (const extra of <Record<string, string>[]>[
      { name: 'other' },
      { state_dir: 'elsewhere' },
      { schedule: "'0 2 * * *'" },
      { batch_size: '17' },
      { errors: '{ max_rejected: 5, rejects: r.csv }' },
      { model: '{ path: m.onnx, threads: 2 }' },
      { model: 'moved/m.onnx' },
      { input: 'other/*.csv' },
      { output: "'elsewhere/{input_stem}.csv'" },
      { metrics_file: 'm.prom' },
    ]) {
      expect(hashOf(extra), JSON.stringify(extra)).toBe(h);
    }
  });

  it('changes with every setting that changes what a result holds', () => {
    const h = hashOf({});
    const changed: Record<string, string>[] = [
      { features: '{ columns: [b, a] }' },
      { features: '{ columns: [a, b], missing: nan }' },
      { features: '{ columns: [a, b], missing: { default: reject, a: 0 } }' },
      { passthrough: '[id]' },
      { predictions: '[variable]' },
      { output: "{ path: 'out/{input_stem}.csv', float_precision: 9 }" },
      { input: "{ path: 'in/*.csv', csv: { delimiter: ';' } }" },
      { input: "{ path: 'in/*.csv', csv: { relax_quotes: true } }" },
      { input: "{ path: 'in/*.csv', format: tsv }" },
      { model: '{ path: m.onnx, optimization: disabled }' },
    ];
    const hashes = changed.map((c) => hashOf(c));
    for (const [i, x] of hashes.entries()) expect(x, JSON.stringify(changed[i])).not.toBe(h);
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(hashOf({}, 'tsv')).not.toBe(h);
  });

  it('does not depend on key order in the file', () => {
    const a = parseJob('model: m.onnx\ninput: x.csv\nfeatures: { columns: [a], missing: { b: 0, a: nan } }\noutput: o.csv\n', '/j/job.yaml', {});
    const b = parseJob('output: o.csv\nfeatures: { missing: { a: nan, b: 0 }, columns: [a] }\ninput: x.csv\nmodel: m.onnx\n', '/j/job.yaml', {});
    expect(jobConfigHash(a, 'csv')).toBe(jobConfigHash(b, 'csv'));
  });
});

describe('stableJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(stableJson({ b: 1, a: { d: [1, { z: 1, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"z":1}]},"b":1}');
  });
});

describe('Ledger', () => {
  const scored = (file: string, sha256: string, size: number) => ({
    path: file,
    size,
    mtime_ms: 1,
    sha256,
    scored_at: '2026-01-01T00:00:00.000Z',
    output: null,
    rows_in: 1,
    rows_out: 1,
    rows_rejected: 0,
  });

  it('starts empty, skips what it recorded, and notices a changed file, model or job', async () => {
    const d = tempDir();
    const file = path.join(d, 'a.csv');
    writeFileSync(file, 'x\n1\n');
    const l1 = await Ledger.open(d, 'job', 'R1', 'm1', 'c1');
    expect((await l1.check(openSource(file, file))).decision).toEqual({ action: 'score', reason: 'new input' });
    await l1.add([scored(file, await sha256Of(openSource(file, file)), 4)]);
    const saved = JSON.parse(readFileSync(ledgerPath(d, 'job'), 'utf8'));
    expect(saved.entries[file]).toMatchObject({ run_id: 'R1', model_sha256: 'm1', config_hash: 'c1', size: 4 });

    const l2 = await Ledger.open(d, 'job', 'R2', 'm1', 'c1');
    const same = await l2.check(openSource(file, file));
    expect(same.decision.action).toBe('skip');
    expect(same.state?.sha256).toBe(await sha256Of(openSource(file, file)));
    utimesSync(file, new Date(5e12), new Date(5e12));
    expect((await l2.check(openSource(file, file))).decision).toMatchObject({ action: 'skip', reason: expect.stringContaining('only its modification time') });
    writeFileSync(file, 'x\n2\n');
    expect((await l2.check(openSource(file, file))).decision).toMatchObject({ action: 'score', reason: expect.stringContaining('other sha256') });
    expect((await (await Ledger.open(d, 'job', 'R3', 'm2', 'c1')).check(openSource(file, file))).decision.action).toBe('score');
    expect((await (await Ledger.open(d, 'job', 'R3', 'm1', 'c2')).check(openSource(file, file))).decision.action).toBe('score');
  });

  it('an input that is gone is left to the scoring to report', async () => {
    const d = tempDir();
    const l = await Ledger.open(d, 'job', 'R1', 'm1', 'c1');
    expect((await l.check(openSource(path.join(d, 'gone.csv'), 'gone.csv'))).decision.action).toBe('score');
  });

  it('a ledger that cannot be read is an error (exit 2), never an empty ledger', async () => {
    const d = tempDir();
    mkdirSync(path.join(d, 'ledger'));
    writeFileSync(ledgerPath(d, 'job'), '{"version": 1, "entr');
    const err = await Ledger.open(d, 'job', 'R1', 'm1', 'c1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SbError);
    expect((err as SbError).code).toBe('JOB_INVALID');
    expect((err as SbError).describe()).toMatch(/ledger .*job\.json cannot be read .*delete it to score every input again \(at input\.incremental\)/);
    writeFileSync(ledgerPath(d, 'job'), '{"version": 7, "entries": {}}');
    expect(await Ledger.open(d, 'job', 'R1', 'm1', 'c1').catch((e: unknown) => (e as SbError).code)).toBe('JOB_INVALID');
  });

  it('a ledger that cannot be written is a WRITE_FAILED error that says what it means', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'ledger'), 'a file where the directory should be');
    const l = await Ledger.open(path.join(d), 'job', 'R1', 'm1', 'c1').catch(() => undefined);
    // ENOTDIR on read is not ENOENT: the ledger cannot be read either
    expect(l).toBeUndefined();
    const d2 = tempDir();
    const l2 = await Ledger.open(d2, 'job', 'R1', 'm1', 'c1');
    writeFileSync(path.join(d2, 'ledger'), 'blocker');
    const err = (await l2.add([scored('/x.csv', 'aa', 1)]).catch((e: unknown) => e)) as SbError;
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.message).toContain('will be scored again by the next one');
    expect(readdirSync(d2)).toEqual(['ledger']);
  });
});
