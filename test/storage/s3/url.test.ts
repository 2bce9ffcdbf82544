// s3:// URLs: parsed into bucket and key as the AWS CLI reads them, shown without credentials.
import { describe, expect, it } from 'vitest';
import { SbError } from '../../../src/errors.js';
import { isS3Url, parseS3Url, s3Url, showUrl } from '../../../src/storage/s3/url.js';

const failure = (raw: string): SbError => {
  try {
    parseS3Url(raw);
  } catch (err) {
    return err as SbError;
  }
  throw new Error(`${raw} was accepted`);
};

describe('s3:// URLs', () => {
  it('recognises the scheme in any case, and nothing else', () => {
    expect(isS3Url('s3://b/k')).toBe(true);
    expect(isS3Url('S3://b/k')).toBe(true);
    expect(isS3Url('/data/s3://x')).toBe(false);
    expect(isS3Url('data/in.csv')).toBe(false);
    expect(isS3Url('s3:/b/k')).toBe(false);
  });

  it('splits bucket and key; the key is everything after the first slash, taken literally', () => {
    expect(parseS3Url('s3://my-bucket/a/b/c.csv')).toEqual({ bucket: 'my-bucket', key: 'a/b/c.csv' });
    expect(parseS3Url('s3://my-bucket/a%20b//c?.csv')).toEqual({ bucket: 'my-bucket', key: 'a%20b//c?.csv' });
    expect(parseS3Url('s3://my.bucket_1/')).toEqual({ bucket: 'my.bucket_1', key: '' });
    expect(parseS3Url('s3://bucket')).toEqual({ bucket: 'bucket', key: '' });
    expect(parseS3Url('S3://bucket/x')).toEqual({ bucket: 'bucket', key: 'x' });
  });

  it('writes a location back as s3://bucket/key', () => {
    expect(s3Url({ bucket: 'b1', key: 'p/q.csv' })).toBe('s3://b1/p/q.csv');
    expect(s3Url(parseS3Url('S3://bucket/x'))).toBe('s3://bucket/x');
  });

  it('refuses a URL without a bucket or with a bucket name no store accepts (JOB_INVALID)', () => {
    expect(failure('s3:///key').message).toMatch(/no bucket name/);
    expect(failure('s3://a b/key').message).toMatch(/'a b' is not a bucket name/);
    expect(failure('s3://-x/key').code).toBe('JOB_INVALID');
    expect(failure('s3://bucket:9000/key').message).toMatch(/not a bucket name/);
  });

  it('refuses a key over 1,024 bytes', () => {
    expect(failure(`s3://bucket/${'é'.repeat(513)}`).message).toMatch(/longer than 1024 bytes/);
  });

  it('refuses credentials in the URL and never shows them', () => {
    for (const raw of ['s3://AKIAEXAMPLE:wJalr/XyZzy@bucket/key.csv', 's3://AKIAEXAMPLE@bucket/key.csv']) {
      const err = failure(raw);
      expect(err.message).toMatch(/^s3:\/\/bucket\/key\.csv: /);
      expect(err.message).not.toMatch(/AKIAEXAMPLE|wJalr|XyZzy/);
    }
    const err = failure('s3://AKIAEXAMPLE:wJalrSECRET@bucket/key.csv');
    expect(err.code).toBe('JOB_INVALID');
    expect(err.message).toMatch(/^s3:\/\/bucket\/key\.csv: credentials do not go in an s3:\/\/ URL; set AWS_ACCESS_KEY_ID/);
    expect(err.message).not.toMatch(/AKIAEXAMPLE|wJalrSECRET/);
  });

  it('shows any URL without what stands before @ in its authority', () => {
    expect(showUrl('https://user:pass@minio.local:9000/')).toBe('https://minio.local:9000/');
    expect(showUrl('s3://bucket/key@2024.csv')).toBe('s3://bucket/key@2024.csv');
    expect(showUrl('s3://k:s@bucket/x')).toBe('s3://bucket/x');
    expect(showUrl('http://admin:se/cr@et@127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
    expect(showUrl('http://127.0.0.1:9000/a@b')).toBe('http://127.0.0.1:9000/a@b');
  });
});
