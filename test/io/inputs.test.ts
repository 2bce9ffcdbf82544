import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { resolveInputs } from '../../src/io/inputs.js';

let root: string;
const p = (...parts: string[]) => path.join(root, ...parts);
const paths = async (patterns: string[], format?: string) => (await resolveInputs(patterns, format)).map((f) => f.path);

function put(rel: string, content = 'a\n1\n'): void {
  mkdirSync(path.dirname(p(rel)), { recursive: true });
  writeFileSync(p(rel), content);
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'sb-inputs-'));
  put('in/b.csv', 'a\n1\n2\n');
  put('in/a.csv');
  put('in/C.csv');
  put('in/c.tsv');
  put('in/notes.txt');
  put('in/.partial.csv');
  put('in/.sb-out.csv.123.abcd0123.sb-tmp');
  put('in/sub/d.csv');
  put('in/sub/deeper/e.csv');
  put('in/.hidden/f.csv');
  mkdirSync(p('in/dir.csv')); // a directory that looks like a file
  put('empty/.keep');
  put('Data (2024)/x.csv');
  put('Data (2024)/y.csv');
  put('br[1]/z.csv');
  put('br1/wrong.csv');
  put('with space/s.csv');
  symlinkSync(p('in/a.csv'), p('in/link.csv'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('resolveInputs: single paths', () => {
  it('a literal file is returned with its size', async () => {
    expect(await resolveInputs([p('in/b.csv')])).toEqual([{ path: p('in/b.csv'), bytes: 6 }]);
  });

  it('a literal file of any extension is taken as given', async () => {
    expect(await paths([p('in/notes.txt')])).toEqual([p('in/notes.txt')]);
  });

  it('a literal path that does not exist is PATH_NOT_FOUND (at input.path)', async () => {
    const err = await resolveInputs([p('in/nope.csv')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SbError);
    expect((err as SbError).code).toBe('PATH_NOT_FOUND');
    expect((err as SbError).message).toContain(p('in/nope.csv'));
    expect((err as SbError).context.yamlPath).toBe('input.path');
  });

  it('one missing literal among good patterns still fails', async () => {
    await expect(resolveInputs([p('in/a.csv'), p('missing-dir/x.csv')])).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it("'-' is stdin", async () => {
    expect(await resolveInputs(['-'])).toEqual([{ path: '-' }]);
  });

  it('a literal hidden file named explicitly is used', async () => {
    expect(await paths([p('in/.partial.csv')])).toEqual([p('in/.partial.csv')]);
  });

  it('a literal path with spaces works', async () => {
    expect(await paths([p('with space/s.csv')])).toEqual([p('with space/s.csv')]);
  });
});

describe('resolveInputs: directories', () => {
  it('a directory gives JSON Lines, Parquet and gzipped text files too (not gzipped Parquet)', async () => {
    for (const f of ['a.jsonl', 'b.ndjson', 'c.parquet', 'd.csv.gz', 'e.jsonl.gz', 'f.tsv.gz', 'g.parquet.gz', 'h.gz']) put(`formats/${f}`);
    expect(await paths([p('formats')])).toEqual(['a.jsonl', 'b.ndjson', 'c.parquet', 'd.csv.gz', 'e.jsonl.gz', 'f.tsv.gz'].map((f) => p('formats', f)));
  });

  it('a directory gives its data files (csv/tsv by extension), sorted, not recursive, hidden skipped', async () => {
    expect(await paths([p('in')])).toEqual([p('in/C.csv'), p('in/a.csv'), p('in/b.csv'), p('in/c.tsv'), p('in/link.csv')]);
  });

  it('a directory with an explicit format admits every (non-hidden) file', async () => {
    expect(await paths([p('in')], 'csv')).toEqual([p('in/C.csv'), p('in/a.csv'), p('in/b.csv'), p('in/c.tsv'), p('in/link.csv'), p('in/notes.txt')]);
  });

  it('an empty directory (or one with only hidden files) gives no inputs, without error', async () => {
    expect(await resolveInputs([p('empty')])).toEqual([]);
  });

  it('sub-directories are never inputs, even when named like a data file', async () => {
    expect(await paths([p('in')])).not.toContain(p('in/dir.csv'));
  });
});

describe('resolveInputs: globs', () => {
  it('a glob matches files, sorted by code point, hidden files skipped', async () => {
    expect(await paths([p('in/*.csv')])).toEqual([p('in/C.csv'), p('in/a.csv'), p('in/b.csv'), p('in/link.csv')]);
  });

  it('a glob never matches directories', async () => {
    expect(await paths([p('in/*')])).not.toContain(p('in/dir.csv'));
    expect(await paths([p('in/*')])).not.toContain(p('in/sub'));
  });

  it('** recurses, but not into hidden directories', async () => {
    expect(await paths([p('in/**/*.csv')])).toEqual([
      p('in/C.csv'),
      p('in/a.csv'),
      p('in/b.csv'),
      p('in/link.csv'),
      p('in/sub/d.csv'),
      p('in/sub/deeper/e.csv'),
    ]);
  });

  it('a glob with braces and character classes', async () => {
    expect(await paths([p('in/{a,b}.csv')])).toEqual([p('in/a.csv'), p('in/b.csv')]);
    expect(await paths([p('in/[ab].csv')])).toEqual([p('in/a.csv'), p('in/b.csv')]);
  });

  it('a glob is case-sensitive', async () => {
    expect(await paths([p('in/c.*')])).toEqual([p('in/c.tsv')]);
  });

  it('a glob matching nothing gives [] (not an error), also under a directory that does not exist', async () => {
    expect(await resolveInputs([p('in/*.parquet')])).toEqual([]);
    expect(await resolveInputs([p('no-such-dir/*.csv')])).toEqual([]);
  });

  it('a glob under a directory whose name has glob characters matches inside that directory', async () => {
    expect(await paths([p('Data (2024)/*.csv')])).toEqual([p('Data (2024)/x.csv'), p('Data (2024)/y.csv')]);
    expect(await paths([p('br[1]/*.csv')])).toEqual([p('br[1]/z.csv')]);
  });

  it('a literal file under a directory whose name has glob characters', async () => {
    expect(await paths([p('br[1]/z.csv')])).toEqual([p('br[1]/z.csv')]);
  });

  it('results carry sizes', async () => {
    const files = await resolveInputs([p('in/b.csv'), p('in/a.*')]);
    expect(files).toEqual([
      { path: p('in/a.csv'), bytes: 4 },
      { path: p('in/b.csv'), bytes: 6 },
    ]);
  });
});

describe('resolveInputs: lists', () => {
  it('a list is merged, sorted and de-duplicated across files, globs and directories', async () => {
    const got = await paths([p('in/b.csv'), p('in/*.csv'), p('in'), p('in/sub/d.csv'), p('in/b.csv')]);
    expect(got).toEqual([p('in/C.csv'), p('in/a.csv'), p('in/b.csv'), p('in/c.tsv'), p('in/link.csv'), p('in/sub/d.csv')]);
    expect(new Set(got).size).toBe(got.length);
  });

  it('the order of the list does not matter', async () => {
    const a = await paths([p('in/sub/d.csv'), p('in/*.tsv'), p('in/a.csv')]);
    const b = await paths([p('in/a.csv'), p('in/sub/d.csv'), p('in/*.tsv')]);
    expect(a).toEqual(b);
    expect(a).toEqual([p('in/a.csv'), p('in/c.tsv'), p('in/sub/d.csv')]);
  });

  it('a non-normalized path is the same file as its glob match', async () => {
    expect(await paths([p('in/sub/../a.csv'), p('in/a.*')])).toEqual([p('in/a.csv')]);
  });

  it('globs matching nothing contribute nothing to a list', async () => {
    expect(await paths([p('in/*.none'), p('in/a.csv')])).toEqual([p('in/a.csv')]);
  });
});
