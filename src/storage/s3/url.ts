// `s3://bucket/key` URLs: recognised, parsed and shown. The key is everything after the bucket's slash, taken
// literally (no percent-decoding, as the AWS CLI reads it); glob characters in it are for the listing
// (list.ts) to interpret. Credentials never travel in these URLs: one that carries them is refused, and the
// message shows it without them.
import { SbError } from '../../errors.js';

export interface S3Location {
  bucket: string;
  /** The object key, or the key pattern of a glob; '' for the bucket itself. */
  key: string;
}

const SCHEME = /^s3:\/\//i;
// S3's bucket rules (3-63 characters, lowercase letters, digits, dots, hyphens), loosened to what other stores
// accept: uppercase and underscores (legacy us-east-1 buckets, Google Cloud Storage), up to 222 characters (GCS).
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,221}$/;
const MAX_KEY_BYTES = 1024;

// Whether a path names an object store location rather than a local file.
export function isS3Url(p: string): boolean {
  return SCHEME.test(p);
}

// Split `s3://bucket/key` into bucket and key; a malformed URL is JOB_INVALID, shown without any credentials.
export function parseS3Url(raw: string): S3Location {
  if (!isS3Url(raw)) throw new SbError('JOB_INVALID', `not an s3:// URL: ${showUrl(raw)}`);
  const rest = raw.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (showUrl(raw) !== raw) {
    throw new SbError(
      'JOB_INVALID',
      `${showUrl(raw)}: credentials do not go in an s3:// URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, in the environment`,
    );
  }
  if (authority === '') throw new SbError('JOB_INVALID', `${raw}: no bucket name after s3://`);
  if (!BUCKET.test(authority)) {
    throw new SbError('JOB_INVALID', `${showUrl(raw)}: '${authority}' is not a bucket name (letters, digits, '.', '-' and '_', 2 to 222 characters, starting with a letter or digit)`);
  }
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new SbError('JOB_INVALID', `${showUrl(raw)}: the key is longer than ${MAX_KEY_BYTES} bytes`);
  return { bucket: authority, key };
}

// `s3://bucket/key`.
export function s3Url(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

// A URL as it may be shown: the user, password or keys it carries before an '@' removed. A secret may hold a
// '/', which ends the authority as a URL parser reads it, so when the authority looks like credentials (holds
// an '@', or a ':' not followed by a port) everything up to the last '@' goes; a key's or a path's own '@'
// (s3://b/key@2024.csv, http://host:9000/a@b) stays.
export function showUrl(raw: string): string {
  const m = /^([a-z0-9+.-]+:\/\/)(.*)$/is.exec(raw);
  if (!m) return raw;
  const rest = m[2];
  const authority = rest.split('/')[0];
  const at = rest.lastIndexOf('@');
  if (at === -1 || !(authority.includes('@') || /:(?!\d*$)/.test(authority))) return raw;
  return `${m[1]}${rest.slice(at + 1)}`;
}
