// Where the client takes its configuration from: the job's storage.s3 block before the environment, the
// endpoint variables in the SDK's order, credentials and region from a profile, and one connection pool for
// every request of a run.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openS3Store } from '../../../src/storage/s3/client.js';
import { listS3 } from '../../../src/storage/s3/list.js';
import { openS3Source } from '../../../src/storage/s3/source.js';
import { tempDir } from '../../support/temp-dir.js';
import { s3Proxy, setEnv, startS3Server, type S3TestServer } from '../../support/s3-server.js';

let server: S3TestServer;
let restoreEnv: () => void;
const DEAD = 'http://127.0.0.1:9';

beforeAll(async () => {
  server = await startS3Server();
  restoreEnv = setEnv(server.env());
  await server.bucket('conf');
  await server.put('conf', 'a.csv', 'a\n1\n');
});

afterAll(async () => {
  restoreEnv?.();
  await server?.stop();
});

// The keys of s3://conf/*.csv, listed through a store made with `options` under `env`.
async function listWith(options: Parameters<typeof openS3Store>[0], env: Record<string, string | undefined>): Promise<string[]> {
  const restore = setEnv(env);
  const store = openS3Store(options, { maxAttempts: 1 });
  try {
    return (await listS3(store, 's3://conf/*.csv')).map((o) => o.key);
  } finally {
    store.close();
    restore();
  }
}

describe('openS3Store: configuration', () => {
  it('storage.s3.endpoint wins over AWS_ENDPOINT_URL_S3, which wins over AWS_ENDPOINT_URL', async () => {
    expect(await listWith({ endpoint: server.endpoint }, { AWS_ENDPOINT_URL_S3: DEAD, AWS_ENDPOINT_URL: DEAD })).toEqual(['a.csv']);
    expect(await listWith({}, { AWS_ENDPOINT_URL_S3: server.endpoint, AWS_ENDPOINT_URL: DEAD })).toEqual(['a.csv']);
    expect(await listWith({}, { AWS_ENDPOINT_URL_S3: undefined, AWS_ENDPOINT_URL: server.endpoint })).toEqual(['a.csv']);
  });

  it('shows the endpoint in messages, without a trailing path it does not need', () => {
    const store = openS3Store({ endpoint: server.endpoint });
    expect(store.endpoint).toBe(server.endpoint);
    store.close();
  });

  it('takes credentials and region from AWS_PROFILE and the shared files', async () => {
    const dir = tempDir('sb-aws-');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'config'), '[profile batch]\nregion = eu-central-1\n');
    writeFileSync(path.join(dir, 'credentials'), '[batch]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n');
    const env = {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_REGION: undefined,
      AWS_PROFILE: 'batch',
      AWS_CONFIG_FILE: path.join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'),
    };
    expect(await listWith({}, env)).toEqual(['a.csv']);
    const restore = setEnv(env);
    const store = openS3Store();
    try {
      expect(await store.client.config.region()).toBe('eu-central-1');
    } finally {
      store.close();
      restore();
    }
  });

  it('the region: storage.s3.region, else the environment or profile, else us-east-1', async () => {
    const region = async (options: { region?: string }, env: Record<string, string | undefined>) => {
      const restore = setEnv(env);
      const store = openS3Store(options);
      try {
        return await store.client.config.region();
      } finally {
        store.close();
        restore();
      }
    };
    const noFiles = { AWS_CONFIG_FILE: '/nonexistent/config', AWS_PROFILE: undefined };
    expect(await region({ region: 'ap-south-1' }, { ...noFiles, AWS_REGION: 'eu-west-1' })).toBe('ap-south-1');
    expect(await region({}, { ...noFiles, AWS_REGION: 'eu-west-1' })).toBe('eu-west-1');
    expect(await region({}, { ...noFiles, AWS_REGION: undefined })).toBe('us-east-1');
  });

  it('a custom endpoint means path-style addressing unless the block says otherwise', () => {
    const paths = openS3Store({ endpoint: server.endpoint });
    const hosts = openS3Store({ endpoint: server.endpoint, forcePathStyle: false });
    expect(paths.client.config.forcePathStyle).toBe(true);
    expect(hosts.client.config.forcePathStyle).toBe(false);
    paths.close();
    hosts.close();
  });
});

describe('openS3Store: connections', () => {
  it('every request of a store shares its kept-alive connections', async () => {
    const p = await s3Proxy(server.port);
    const store = openS3Store({ endpoint: `http://127.0.0.1:${p.port}` });
    try {
      for (let i = 0; i < 10; i++) {
        expect(await listS3(store, 's3://conf/a.csv')).toHaveLength(1);
        expect((await openS3Source(store, 's3://conf/a.csv').readAt(0, 2)).length).toBe(2);
      }
      expect(p.connections()).toBe(1);
    } finally {
      store.close();
      await p.close();
    }
  });
});
