// One S3 client per run, configured from the job's `storage.s3` block and the standard AWS environment:
// credentials from the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN,
// AWS_PROFILE and the shared files, SSO, web identity, container and instance roles), the region from the block,
// else AWS_REGION or the profile, else us-east-1; the endpoint from the block, else AWS_ENDPOINT_URL_S3, else
// AWS_ENDPOINT_URL, else AWS itself. Its connections are kept alive and shared by every request of the run.
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SbError } from '../../errors.js';
import { showUrl } from './url.js';

/** The job file's `storage.s3` block (its `${VAR}`s already expanded). */
export interface S3Options {
  /** An S3-compatible server (MinIO, R2, GCS, Ceph): `https://host[:port]`. */
  endpoint?: string;
  region?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`; default: true with an endpoint. */
  forcePathStyle?: boolean;
}

/** Limits a run does not need to set (tests and the bench do). */
export interface S3Tuning {
  /** Time to open a connection (default 10 s). */
  connectTimeoutMs?: number;
  /** Time a connection may stay silent during a request or a body (default 60 s). */
  idleTimeoutMs?: number;
  /** Attempts per request, the first included (default: AWS_MAX_ATTEMPTS, else the SDK's 3). */
  maxAttempts?: number;
}

export interface S3Store {
  readonly client: S3Client;
  /** The custom endpoint as it may be shown (no user or password), undefined for AWS. */
  readonly endpoint: string | undefined;
  /** Close the kept-alive connections (after the run). */
  close(): void;
}

const DEFAULT_REGION = 'us-east-1';

// A client for the run: S3-compatible stores (a custom endpoint) get path-style addressing and checksums only
// where the API requires them, which is what they implement; AWS gets the SDK's defaults and follows a
// bucket's region when the configured one is wrong. Retries are the SDK's standard mode (5xx, throttling,
// connection resets; with backoff), attempts from AWS_MAX_ATTEMPTS or 3.
export function openS3Store(options: S3Options = {}, tuning: S3Tuning = {}): S3Store {
  const endpoint = endpointOf(options);
  const custom = endpoint !== undefined;
  const config: S3ClientConfig = {
    region: options.region ?? regionOrDefault(),
    forcePathStyle: options.forcePathStyle ?? custom,
    followRegionRedirects: !custom,
    // The SDK sends bodies over 2 MiB (every part) with `Expect: 100-continue`, which its handler serves with a
    // new agent without keep-alive: one new connection (and TLS handshake) per part. Parts go over the kept-alive
    // connections instead; a refusal then comes after the part's bytes rather than before.
    expectContinueHeader: false,
    requestHandler: {
      connectionTimeout: tuning.connectTimeoutMs ?? 10_000,
      socketTimeout: tuning.idleTimeoutMs ?? 60_000,
      httpAgent: { keepAlive: true, maxSockets: 16 },
      httpsAgent: { keepAlive: true, maxSockets: 16 },
      // The handler warns on the console when requests queue for sockets; serve-batch prints only through its CLI.
      logger: quiet,
    },
  };
  if (endpoint) config.endpoint = endpoint;
  if (tuning.maxAttempts) config.maxAttempts = tuning.maxAttempts;
  if (custom) {
    // The SDK's default adds CRC32 checksums to every upload, and sends a streamed body aws-chunked with the
    // checksum in a trailer; stores that do not implement those refuse the request or, like s3rver, keep the
    // chunk framing as the object's bytes. The sink sends parts as buffers, which need no trailer either way.
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  const client = withoutVersionWarning(() => new S3Client(config));
  return { client, endpoint: endpoint && showUrl(endpoint), close: () => client.destroy() };
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

// The endpoint from the block or the environment (as the SDK reads it), checked to be an http(s) URL without
// credentials in it.
function endpointOf(options: S3Options): string | undefined {
  const ignoreEnv = process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true';
  const raw = options.endpoint ?? (ignoreEnv ? undefined : process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined);
  if (raw === undefined) return undefined;
  const where = options.endpoint !== undefined ? 'storage.s3.endpoint' : process.env.AWS_ENDPOINT_URL_S3 ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL';
  if (showUrl(raw) !== raw) {
    throw new SbError('JOB_INVALID', `${where} carries a user or password (${showUrl(raw)}): S3 credentials go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SbError('JOB_INVALID', `${where} is not a URL: ${showUrl(raw)} (expected http://host:port or https://host)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SbError('JOB_INVALID', `${where} must start with http:// or https://, not ${url.protocol}//`);
  }
  return raw;
}

// The SDK's own region chain (AWS_REGION, then the profile's `region`), us-east-1 where it finds none: AWS
// then redirects to a bucket's region, and S3-compatible stores mostly ignore it.
function regionOrDefault(): () => Promise<string> {
  const probe = withoutVersionWarning(() => new S3Client({}));
  const chain = probe.config.region;
  probe.destroy();
  return async () => {
    try {
      return (await chain()) || DEFAULT_REGION;
    } catch {
      return DEFAULT_REGION;
    }
  };
}

// The SDK warns once per process, on Node < 22, that its releases after early 2027 need Node 22. This version
// is pinned (package.json), so the warning is about versions serve-batch does not use; its switch is an
// environment variable read while a client is made.
function withoutVersionWarning<T>(make: () => T): T {
  const name = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  const saved = process.env[name];
  process.env[name] = 'true';
  try {
    return make();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}
