// Failures a user meets with object storage, each as one line naming the URL and what to check, with the exit
// code of its phase, against real servers on 127.0.0.1: s3rver, a port nothing listens on, a server that never
// answers, one that answers like S3 for a bucket in another region, one that keeps answering 503. Credentials
// from the environment never appear in any message.
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeOf, SbError } from '../../../src/errors.js';
import { openS3Store, type S3Options, type S3Store, type S3Tuning } from '../../../src/storage/s3/client.js';
import { failureKind, redact, s3Failure } from '../../../src/storage/s3/failure.js';
import { listS3 } from '../../../src/storage/s3/list.js';
import { openS3Sink } from '../../../src/storage/s3/sink.js';
import { openS3Source } from '../../../src/storage/s3/source.js';
import { failure as sbFailure } from '../../support/failure.js';
import { setEnv, startS3Server, type S3TestServer } from '../../support/s3-server.js';

const SECRET = 'sbTestSecretKey/9f3Xq+ZrLwY2MmN8pQ';
const TOKEN = 'sbTestSessionToken7Hh2Kk4Jj6Gg8Ff0Dd';
const BAD_KEY_ID = 'AKIASBTESTKEYID00001';

let server: S3TestServer;
let restoreEnv: () => void;
const messages: string[] = [];
const stores: S3Store[] = [];

beforeAll(async () => {
  server = await startS3Server();
  restoreEnv = setEnv({ ...server.env(), AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN });
  await server.bucket('data');
  await server.put('data', 'in.csv', 'a\n1\n');
});

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

afterAll(async () => {
  restoreEnv?.();
  await server?.stop();
});

const store = (o: S3Options = {}, t: S3Tuning = {}) => {
  const s = openS3Store(o, t);
  stores.push(s);
  return s;
};

// The SbError `run` ends with, remembered for the credentials check at the end.
async function failure(run: () => Promise<unknown>): Promise<SbError> {
  const err = await sbFailure(Promise.resolve().then(run));
  messages.push(err.describe());
  return err;
}

const readAll = async (s: S3Store, url: string) => {
  for await (const _ of openS3Source(s, url).open()) void _;
};
const writeOne = async (s: S3Store, url: string) => {
  const sink = openS3Sink(s, url);
  await sink.write('a\n');
  await sink.commit();
};

// A port on 127.0.0.1 that nothing listens on (taken from the system, then let go).
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// An HTTP server on 127.0.0.1 that answers every request with `answer`; closed after the test.
async function fakeStore(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ endpoint: string; requests: () => number }> {
  let requests = 0;
  const srv = http.createServer((req, res) => {
    requests++;
    req.resume();
    answer(req, res);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => {
    srv.closeAllConnections();
    srv.close(() => resolve());
  }));
  return { endpoint: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, requests: () => requests };
}
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('a store that cannot be reached', () => {
  it('connection refused: after the SDK retries, one line naming the endpoint; listing is STORAGE_UNAVAILABLE (exit 1)', async () => {
    const endpoint = `http://127.0.0.1:${await deadPort()}`;
    const s = store({ endpoint });
    const list = await failure(() => listS3(s, 's3://data/*.csv'));
    expect(list.code).toBe('STORAGE_UNAVAILABLE');
    expect(exitCodeOf(list)).toBe(1);
    expect(list.message).toBe(`cannot list s3://data/*.csv: cannot reach the store at ${endpoint}: connection refused (3 attempts); check storage.s3.endpoint, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, and that the server is up`);
    const read = await failure(() => readAll(s, 's3://data/in.csv'));
    expect(read.code).toBe('INPUT_FAILED');
    expect(read.message).toMatch(/^cannot read s3:\/\/data\/in\.csv: cannot reach the store at http:\/\/127\.0\.0\.1:\d+: connection refused/);
    const write = await failure(() => writeOne(s, 's3://data/out.csv'));
    expect(write.code).toBe('WRITE_FAILED');
    expect(write.message).toMatch(/^cannot write s3:\/\/data\/out\.csv: cannot reach the store at .*: connection refused/);
  });

  it('a server that never answers: the idle timeout ends the wait', async () => {
    const silent = await fakeStore(() => undefined);
    const s = store({ endpoint: silent.endpoint }, { idleTimeoutMs: 300, maxAttempts: 1 });
    const err = await failure(() => openS3Source(s, 's3://data/in.csv').stat());
    expect(err.code).toBe('INPUT_FAILED');
    expect(err.message).toBe(`cannot read s3://data/in.csv: the store did not answer in time at ${silent.endpoint}; check storage.s3.endpoint, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, or try again later`);
  });

  it('a server that keeps answering 503 SlowDown is retried by the SDK, then fails the input', async () => {
    const busy = await fakeStore((_, res) => {
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
    });
    const s = store({ endpoint: busy.endpoint });
    const err = await failure(() => listS3(s, 's3://data/*.csv'));
    expect(busy.requests()).toBe(3);
    expect(err.code).toBe('STORAGE_UNAVAILABLE');
    expect(exitCodeOf(err)).toBe(1);
    expect(err.message).toBe(`cannot list s3://data/*.csv: the store kept failing (HTTP 503 SlowDown) (3 attempts) at ${busy.endpoint}; try again later`);
  });
});

describe('a store that refuses the configuration', () => {
  it('an access key id the server does not know: STORAGE_ACCESS (exit 2) when listing, the phase code after', async () => {
    const restore = setEnv({ AWS_ACCESS_KEY_ID: BAD_KEY_ID });
    try {
      const s = store();
      const list = await failure(() => listS3(s, 's3://data/*.csv'));
      expect(list.code).toBe('STORAGE_ACCESS');
      expect(exitCodeOf(list)).toBe(2);
      expect(list.message).toBe(`cannot list s3://data/*.csv: the store rejected the credentials (InvalidAccessKeyId) at ${server.endpoint}; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or AWS_PROFILE`);
      // HEAD answers carry no body: a bare 403 says only that access was denied.
      const read = await failure(() => openS3Source(s, 's3://data/in.csv').stat());
      expect(read.code).toBe('INPUT_FAILED');
      expect(read.message).toBe(`cannot read s3://data/in.csv: access denied at ${server.endpoint}; check that the credentials in use may read it (s3:GetObject) (IAM policy, bucket policy)`);
      const write = await failure(() => writeOne(s, 's3://data/out.csv'));
      expect(write.code).toBe('WRITE_FAILED');
      expect(write.message).toMatch(/^cannot write s3:\/\/data\/out\.csv: the store rejected the credentials \(InvalidAccessKeyId\)/);
    } finally {
      restore();
    }
  });

  it('no credentials anywhere: says where they can come from', async () => {
    const restore = setEnv({
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
      AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    try {
      const err = await failure(() => listS3(store(), 's3://data/*.csv'));
      expect(err.code).toBe('STORAGE_ACCESS');
      expect(err.message).toBe('cannot list s3://data/*.csv: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an instance or container role provides them');
    } finally {
      restore();
    }
  });

  it('a bucket in another region: names the region to set', async () => {
    const elsewhere = await fakeStore((req, res) => {
      res.writeHead(301, { 'content-type': 'application/xml', 'x-amz-bucket-region': 'eu-west-3' });
      res.end(req.method === 'HEAD' ? undefined : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message><Endpoint>data.s3.eu-west-3.amazonaws.com</Endpoint><Bucket>data</Bucket></Error>');
    });
    const s = store({ endpoint: elsewhere.endpoint, region: 'us-east-1' });
    const list = await failure(() => listS3(s, 's3://data/*.csv'));
    expect(list.code).toBe('STORAGE_ACCESS');
    expect(list.message).toBe(`cannot list s3://data/*.csv: the bucket 'data' is in region eu-west-3 at ${elsewhere.endpoint}; set storage.s3.region or AWS_REGION to eu-west-3`);
    const read = await failure(() => openS3Source(s, 's3://data/in.csv').stat());
    expect(read.code).toBe('INPUT_FAILED');
    expect(read.message).toMatch(/^cannot read s3:\/\/data\/in\.csv: the bucket 'data' is in region eu-west-3/);
  });

  it('an endpoint that is not an http(s) URL, or carries a password, is JOB_INVALID without showing it', () => {
    expect(() => openS3Store({ endpoint: 'minio:9000' })).toThrow(expect.objectContaining({ code: 'JOB_INVALID', message: 'storage.s3.endpoint must start with http:// or https://, not minio://' }));
    expect(() => openS3Store({ endpoint: 'not a url' })).toThrow(expect.objectContaining({ code: 'JOB_INVALID', message: 'storage.s3.endpoint is not a URL: not a url (expected http://host:port or https://host)' }));
    const restore = setEnv({ AWS_ENDPOINT_URL_S3: `http://admin:${SECRET}@127.0.0.1:9000` });
    try {
      let err: SbError | undefined;
      try {
        openS3Store();
      } catch (e) {
        err = e as SbError;
      }
      expect(err?.code).toBe('JOB_INVALID');
      messages.push(err!.describe());
      expect(err?.message).toBe('AWS_ENDPOINT_URL_S3 carries a user or password (http://127.0.0.1:9000): S3 credentials go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile');
    } finally {
      restore();
    }
  });
});

describe('failures classified from what the SDK reports', () => {
  const s3 = { endpoint: 'https://store.example', client: undefined as never, close: () => undefined };
  const sdk = (name: string, status?: number, extra: object = {}) => Object.assign(new Error('the store said so'), { name, $metadata: { httpStatusCode: status, attempts: 3 }, ...extra });

  it.each([
    ['a host name that does not resolve', Object.assign(new Error('getaddrinfo ENOTFOUND store.example'), { code: 'ENOTFOUND' }), 'unreachable', /cannot reach the store at https:\/\/store\.example: the host name does not resolve \(DNS\)/],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'unreachable', /the connection was reset/],
    ['a certificate the machine does not trust', Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), 'unreachable', /TLS failed \(SELF_SIGNED_CERT_IN_CHAIN\)/],
    ['expired session credentials', sdk('ExpiredToken', 400), 'credentials', /the session credentials have expired/],
    ['a wrong secret key', sdk('SignatureDoesNotMatch', 403), 'credentials', /rejected the credentials \(SignatureDoesNotMatch\)/],
    ['a clock far off', sdk('RequestTimeTooSkewed', 403), 'clock', /this machine's clock is too far off/],
    ['throttling', sdk('SlowDown', 503), 'server', /kept failing \(HTTP 503 SlowDown\) \(3 attempts\)/],
    ['an access denied by policy', sdk('AccessDenied', 403), 'denied', /access denied at https:\/\/store\.example; check that the credentials in use may list the bucket 'b' \(s3:ListBucket\)/],
    ['an answer nobody expected', sdk('WeirdThing', 418), 'other', /the store answered HTTP 418 WeirdThing at https:\/\/store\.example$/],
  ])('%s', (_, err, kind, words) => {
    expect(failureKind(err)).toBe(kind);
    const e = s3Failure(err, 's3://b/k.csv', 'list', s3);
    messages.push(e.describe());
    expect(e.message).toMatch(words);
    expect(e.message).not.toContain('the store said so');
  });

  it('clears credential values of the environment from any text', () => {
    expect(redact(`token ${TOKEN} and key ${SECRET}!`)).toBe('token *** and key ***!');
  });
});

describe('credentials', () => {
  it('never appear in any message above', () => {
    expect(messages.length).toBeGreaterThan(15);
    for (const m of messages) {
      expect(m).not.toContain(SECRET);
      expect(m).not.toContain(TOKEN);
      expect(m).not.toContain(BAD_KEY_ID);
      expect(m).not.toContain('S3RVER');
      expect(m.split('\n')).toHaveLength(1);
    }
  });
});
