// An `s3://` input path → the objects it names, sorted by URL, with the rules of local input paths
// (src/io/inputs.ts): a literal key is that object, and one that does not exist is PATH_NOT_FOUND (unless
// objects lie under it as under a folder: then it is one); `s3://bucket/prefix/` (or a bucket) is a folder:
// the objects directly under it that `accept` takes; a key with glob characters is matched against keys by
// picomatch with the options tinyglobby gives it for local files (`*` stays within one `/` segment, `**`
// crosses them, no wildcard matches a name starting with '.'); a folder or glob that matches nothing is no
// inputs. An object whose last key segment starts with '.' is never found by a folder or a glob, and keys
// ending in '/' (folder markers) are never inputs.
//
// Listing is paginated ListObjectsV2 from the longest literal prefix of the pattern; a pattern whose rest
// holds no '/' lists one level only (Delimiter '/'), so `s3://b/landing/*.csv` does not walk landing/'s
// subfolders.
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import picomatch from 'picomatch';
import { isDynamicPattern } from 'tinyglobby';
import { SbError } from '../../errors.js';
import type { S3Store } from './client.js';
import { failureKind, s3Failure } from './failure.js';
import { parseS3Url, s3Url, showUrl } from './url.js';

export interface S3Object {
  url: string;
  bucket: string;
  key: string;
  bytes: number;
  etag?: string;
  lastModified?: Date;
}

export interface ListOptions {
  /** Which keys of a folder are inputs (the format's extensions); globs and literal keys are not filtered. */
  accept?: (key: string) => boolean;
}

// The inputs `pattern` names.
export async function listS3(store: S3Store, pattern: string, o: ListOptions = {}): Promise<S3Object[]> {
  const { bucket, key } = parseS3Url(pattern);
  const shown = showUrl(pattern);
  let found: S3Object[];
  if (key === '' || key.endsWith('/')) found = await listFolder(store, bucket, key, o.accept, shown);
  else if (isDynamicPattern(key, { caseSensitiveMatch: true })) found = await listGlob(store, bucket, key, shown);
  else found = await literal(store, bucket, key, o.accept, shown);
  return found.sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}

// A literal key: the object, or a folder of that name, or PATH_NOT_FOUND.
async function literal(store: S3Store, bucket: string, key: string, accept: ListOptions['accept'], shown: string): Promise<S3Object[]> {
  try {
    const h = await store.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return [{ url: s3Url({ bucket, key }), bucket, key, bytes: h.ContentLength ?? 0, etag: h.ETag, lastModified: h.LastModified }];
  } catch (err) {
    if (failureKind(err) !== 'no-key') throw s3Failure(err, shown, 'list', store);
  }
  // No such object: a folder of that name, a missing bucket (HEAD cannot tell), or nothing.
  const under = await page(store, bucket, `${key}/`, '/', undefined, 1, shown);
  if ((under.Contents?.length ?? 0) + (under.CommonPrefixes?.length ?? 0) > 0) return listFolder(store, bucket, `${key}/`, accept, shown);
  throw new SbError('PATH_NOT_FOUND', `input not found: ${shown} (no such object${store.endpoint ? ` at ${store.endpoint}` : ''})`);
}

// The objects directly under `prefix` that `accept` takes.
async function listFolder(store: S3Store, bucket: string, prefix: string, accept: ListOptions['accept'], shown: string): Promise<S3Object[]> {
  const out: S3Object[] = [];
  for await (const o of objects(store, bucket, prefix, '/', shown)) {
    if (!isHidden(o.key) && (!accept || accept(o.key))) out.push(o);
  }
  return out;
}

// The keys that match a glob.
async function listGlob(store: S3Store, bucket: string, key: string, shown: string): Promise<S3Object[]> {
  const { folder, rest } = await literalFolder(store, bucket, key, shown);
  const match = picomatch(rest, { dot: false, posix: true });
  const listFrom = folder + rest.slice(0, firstSpecial(rest));
  const oneLevel = !rest.includes('/') && !rest.includes('**');
  const out: S3Object[] = [];
  for await (const o of objects(store, bucket, listFrom, oneLevel ? '/' : undefined, shown)) {
    if (!isHidden(o.key) && match(o.key.slice(folder.length))) out.push(o);
  }
  return out;
}

// The longest leading part of a glob key that is an existing folder is taken literally, as for local paths,
// so a folder named like `Data (2024)/` or `x[1]/` is not read as glob syntax; the rest is the pattern. Only
// segments holding glob characters cost a request: any other segment is literal either way.
async function literalFolder(store: S3Store, bucket: string, key: string, shown: string): Promise<{ folder: string; rest: string }> {
  const parts = key.split('/');
  let folder = '';
  let i = 0;
  for (; i < parts.length - 1; i++) {
    const next = `${folder}${parts[i]}/`;
    if (isDynamicPattern(parts[i], { caseSensitiveMatch: true })) {
      const r = await page(store, bucket, next, '/', undefined, 1, shown);
      if ((r.Contents?.length ?? 0) + (r.CommonPrefixes?.length ?? 0) === 0) break;
    }
    folder = next;
  }
  return { folder, rest: parts.slice(i).join('/') };
}

// Where the first character that may mean something to picomatch stands (the text before it is literal).
function firstSpecial(pattern: string): number {
  const i = pattern.search(/[*?[\]{}()!+@\\]/);
  return i === -1 ? pattern.length : i;
}

// Every object under `prefix`, page by page (1,000 keys a page); with a delimiter, only those directly under it.
async function* objects(store: S3Store, bucket: string, prefix: string, delimiter: string | undefined, shown: string): AsyncGenerator<S3Object> {
  let token: string | undefined;
  do {
    const r = await page(store, bucket, prefix, delimiter, token, undefined, shown);
    for (const c of r.Contents ?? []) {
      if (c.Key === undefined || c.Key.endsWith('/')) continue;
      yield { url: s3Url({ bucket, key: c.Key }), bucket, key: c.Key, bytes: c.Size ?? 0, etag: c.ETag, lastModified: c.LastModified };
    }
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
}

// One ListObjectsV2 request.
async function page(store: S3Store, bucket: string, prefix: string, delimiter: string | undefined, token: string | undefined, max: number | undefined, shown: string) {
  try {
    return await store.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, Delimiter: delimiter, ContinuationToken: token, MaxKeys: max }));
  } catch (err) {
    throw s3Failure(err, shown, 'list', store);
  }
}

// Hidden objects (`.name` as the last key segment) are never inputs: uploaders stage partial files that way.
function isHidden(key: string): boolean {
  return key.slice(key.lastIndexOf('/') + 1).startsWith('.');
}
