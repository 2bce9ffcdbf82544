// Listing s3:// input paths against a real S3 server: more than one page of keys, globs with the local
// listing's rules, folders, hidden names, literal keys, and what is an error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SbError } from '../../../src/errors.js';
import { listS3 } from '../../../src/storage/s3/list.js';
import { openS3Store, type S3Store } from '../../../src/storage/s3/client.js';
import { putMany, setEnv, startS3Server, type S3TestServer } from '../../support/s3-server.js';

let server: S3TestServer;
let store: S3Store;
let restoreEnv: () => void;
const keys = async (pattern: string, accept?: (key: string) => boolean) => (await listS3(store, pattern, { accept })).map((o) => o.key);
const failure = async (pattern: string): Promise<SbError> => {
  try {
    await listS3(store, pattern);
  } catch (err) {
    return err as SbError;
  }
  throw new Error(`${pattern} listed`);
};

const MANY = 1_234;
const many = Array.from({ length: MANY }, (_, i) => `many/part-${String(i).padStart(5, '0')}.csv`);

beforeAll(async () => {
  server = await startS3Server();
  restoreEnv = setEnv(server.env());
  store = openS3Store();
  await server.bucket('inputs');
  await putMany(server, 'inputs', many.map((k) => [k, 'a\n1\n']));
  await putMany(server, 'inputs', [
    ['in/b.csv', 'a\n1\n2\n'],
    ['in/a.csv', 'a\n1\n'],
    ['in/C.csv', 'a\n'],
    ['in/c.tsv', 'a\n'],
    ['in/notes.txt', 'x'],
    ['in/.partial.csv', 'a\n'],
    ['in/sub/d.csv', 'a\n'],
    ['in/sub/deeper/e.csv', 'a\n'],
    ['in/.hidden/f.csv', 'a\n'],
    ['in/marker/', ''],
    ['Data (2024)/x.csv', 'a\n'],
    ['br[1]/z.csv', 'a\n'],
    ['br1/wrong.csv', 'a\n'],
    ['with space/s.csv', 'a\n'],
    ['empty/.keep', ''],
  ]);
});

afterAll(async () => {
  store?.close();
  restoreEnv?.();
  await server?.stop();
});

describe('listS3: globs', () => {
  it(`lists every page: ${MANY} keys under one prefix, sorted by key`, async () => {
    const found = await listS3(store, 's3://inputs/many/*.csv');
    expect(found.map((o) => o.key)).toEqual(many);
    expect(found[0]).toMatchObject({ url: 's3://inputs/many/part-00000.csv', bucket: 'inputs', bytes: 4 });
    expect(found[0].etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(found[0].lastModified).toBeInstanceOf(Date);
  });

  it('matches with the local rules: * within a segment, case-sensitive, hidden names never', async () => {
    expect(await keys('s3://inputs/in/*.csv')).toEqual(['in/C.csv', 'in/a.csv', 'in/b.csv']);
    expect(await keys('s3://inputs/in/[ab].csv')).toEqual(['in/a.csv', 'in/b.csv']);
    expect(await keys('s3://inputs/in/*.{csv,tsv}')).toEqual(['in/C.csv', 'in/a.csv', 'in/b.csv', 'in/c.tsv']);
    expect(await keys('s3://inputs/many/part-0000?.csv')).toEqual(many.slice(0, 10));
  });

  it('** crosses segments but not hidden folders', async () => {
    expect(await keys('s3://inputs/in/**/*.csv')).toEqual(['in/C.csv', 'in/a.csv', 'in/b.csv', 'in/sub/d.csv', 'in/sub/deeper/e.csv']);
    expect(await keys('s3://inputs/in/*/*.csv')).toEqual(['in/sub/d.csv']);
  });

  it('a folder with glob characters in its name is taken literally when it exists', async () => {
    expect(await keys('s3://inputs/Data (2024)/*.csv')).toEqual(['Data (2024)/x.csv']);
    expect(await keys('s3://inputs/br[1]/*.csv')).toEqual(['br[1]/z.csv']);
    expect(await keys('s3://inputs/with space/*.csv')).toEqual(['with space/s.csv']);
  });

  it('a glob that matches nothing is no inputs, not an error', async () => {
    expect(await keys('s3://inputs/in/*.parquet')).toEqual([]);
    expect(await keys('s3://inputs/nowhere/**/*.csv')).toEqual([]);
  });
});

describe('listS3: folders and literal keys', () => {
  it('a folder is the objects directly under it that the format takes, hidden ones and markers left out', async () => {
    const csvOrTsv = (k: string) => /\.(csv|tsv)$/.test(k);
    expect(await keys('s3://inputs/in/', csvOrTsv)).toEqual(['in/C.csv', 'in/a.csv', 'in/b.csv', 'in/c.tsv']);
    expect(await keys('s3://inputs/in/')).toEqual(['in/C.csv', 'in/a.csv', 'in/b.csv', 'in/c.tsv', 'in/notes.txt']);
  });

  it('a literal key without a trailing slash that is a folder is listed as one', async () => {
    expect(await keys('s3://inputs/in/sub')).toEqual(['in/sub/d.csv']);
  });

  it('an empty folder is no inputs', async () => {
    expect(await keys('s3://inputs/empty/')).toEqual([]);
  });

  it('a literal key is that object, whatever its name (even hidden), with its size and ETag', async () => {
    const [o] = await listS3(store, 's3://inputs/in/b.csv');
    expect(o).toMatchObject({ url: 's3://inputs/in/b.csv', key: 'in/b.csv', bytes: 6 });
    expect(o.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await keys('s3://inputs/in/.partial.csv')).toEqual(['in/.partial.csv']);
    expect(await keys('s3://inputs/in/notes.txt')).toEqual(['in/notes.txt']);
  });

  it('a literal key that does not exist is PATH_NOT_FOUND, naming the URL and the endpoint', async () => {
    const err = await failure('s3://inputs/in/missing.csv');
    expect(err.code).toBe('PATH_NOT_FOUND');
    expect(err.message).toBe(`input not found: s3://inputs/in/missing.csv (no such object at ${server.endpoint})`);
  });

  it('a bucket that does not exist is PATH_NOT_FOUND, for a literal key, a glob and a folder alike', async () => {
    for (const pattern of ['s3://no-such-bucket/a.csv', 's3://no-such-bucket/*.csv', 's3://no-such-bucket/']) {
      const err = await failure(pattern);
      expect(err.code).toBe('PATH_NOT_FOUND');
      expect(err.message).toBe(`cannot list ${pattern}: the bucket 'no-such-bucket' does not exist at ${server.endpoint}; check the bucket name and the endpoint`);
    }
  });
});
