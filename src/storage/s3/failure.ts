// What went wrong talking to the object store, as one SbError line: the URL, the cause in words, what to
// check. The exit code follows the phase: listing inputs before the run (a missing bucket or key is
// PATH_NOT_FOUND, refused credentials, permissions or region STORAGE_ACCESS, both exit 2; a store that cannot
// be reached or keeps failing is STORAGE_UNAVAILABLE, exit 1, so a scheduler's retries apply), reading an input
// (INPUT_FAILED), writing a result (WRITE_FAILED). The SDK's own message is never used for answers of the
// store (they can quote the access key id and the string that was signed); messages of network errors are,
// and every message is cleared of the credentials in the environment in case one slipped in.
import { SbError, type ErrorCode } from '../../errors.js';
import type { S3Store } from './client.js';

export type S3Phase = 'list' | 'read' | 'write';

export type S3FailureKind = 'no-bucket' | 'no-key' | 'denied' | 'credentials' | 'clock' | 'region' | 'unreachable' | 'timeout' | 'server' | 'changed' | 'other';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'CredentialsProviderError', 'InvalidClientTokenId', 'UnrecognizedClientException']);
const REGION_ERRORS = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException', 'Redirect', 'TemporaryRedirect']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EPROTO', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID']);

// Which of the failures a user can cause (or meet) this is.
export function failureKind(err: unknown): S3FailureKind {
  const e = err as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  if (name === 'NoSuchBucket') return 'no-bucket';
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return 'no-key';
  if (name === 'PreconditionFailed' || status === 412) return 'changed';
  if (name === 'RequestTimeTooSkewed') return 'clock';
  if (CREDENTIAL_ERRORS.has(name)) return 'credentials';
  if (REGION_ERRORS.has(name) || status === 301 || status === 307 || /^Region is missing/.test(e.message ?? '')) return 'region';
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || name === 'AccountProblem' || status === 403) return 'denied';
  if (name === 'TimeoutError' || e.code === 'ETIMEDOUT' || name === 'RequestTimeout') return 'timeout';
  if (e.code && NETWORK_CODES.has(e.code)) return 'unreachable';
  if ((status !== undefined && status >= 500) || name === 'SlowDown' || name === 'ThrottlingException') return 'server';
  return 'other';
}

// Failures worth trying again later (another read of the rest of a body, a scheduler's retry).
export function isTransient(err: unknown): boolean {
  const kind = failureKind(err);
  return kind === 'unreachable' || kind === 'timeout' || kind === 'server';
}

// The one-line error for `err` met at `url` during `phase`.
export function s3Failure(err: unknown, url: string, phase: S3Phase, store: S3Store): SbError {
  if (err instanceof SbError) return err;
  const kind = failureKind(err);
  return new SbError(codeFor(kind, phase), redact(`${verb(phase)} ${url}: ${explain(kind, err as SdkError, url, phase, store)}`));
}

function codeFor(kind: S3FailureKind, phase: S3Phase): ErrorCode {
  if (phase === 'read') return 'INPUT_FAILED';
  if (phase === 'write') return 'WRITE_FAILED';
  if (kind === 'no-bucket' || kind === 'no-key') return 'PATH_NOT_FOUND';
  if (kind === 'unreachable' || kind === 'timeout' || kind === 'server') return 'STORAGE_UNAVAILABLE';
  if (kind === 'changed' || kind === 'other') return 'INPUT_FAILED';
  return 'STORAGE_ACCESS';
}

function verb(phase: S3Phase): string {
  return phase === 'list' ? 'cannot list' : phase === 'read' ? 'cannot read' : 'cannot write';
}

// The cause in words, and what to check.
function explain(kind: S3FailureKind, e: SdkError, url: string, phase: S3Phase, store: S3Store): string {
  const at = store.endpoint ? ` at ${store.endpoint}` : '';
  const endpointHint = store.endpoint ? 'storage.s3.endpoint, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL' : 'the network, or set storage.s3.endpoint for an S3-compatible store';
  const bucket = /^s3:\/\/([^/]*)/.exec(url)?.[1] ?? '';
  const status = e.$metadata?.httpStatusCode;
  const tries = (e.$metadata?.attempts ?? 1) > 1 ? ` (${e.$metadata!.attempts} attempts)` : '';
  switch (kind) {
    case 'no-bucket':
      return `the bucket '${bucket}' does not exist${at}; check the bucket name${store.endpoint ? ' and the endpoint' : ' and the account'}`;
    case 'no-key':
      return `no such object${at}`;
    case 'denied':
      // A HEAD answer has no body: 403 is all it says. S3 also answers 403 for a missing key to whoever may not list the bucket.
      return `access denied${at}; check that the credentials in use may ${permission(phase, bucket)} (IAM policy, bucket policy)${e.name && e.name !== 'AccessDenied' && !/^\d+$/.test(e.name) && e.name !== 'Unknown' ? ` (${e.name})` : ''}`;
    case 'credentials':
      if (e.name === 'CredentialsProviderError') return 'no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an instance or container role provides them';
      if (e.name === 'ExpiredToken' || e.name === 'TokenRefreshRequired') return `the session credentials have expired${at}; renew them (AWS_SESSION_TOKEN, the profile's SSO login)`;
      return `the store rejected the credentials (${e.name})${at}; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or AWS_PROFILE`;
    case 'clock':
      return `the store says this machine's clock is too far off (RequestTimeTooSkewed)${at}; set the clock right (NTP)`;
    case 'region': {
      if (/^Region is missing/.test(e.message ?? '')) return 'no AWS region set; set AWS_REGION or storage.s3.region';
      const actual = e.$response?.headers?.['x-amz-bucket-region'];
      return `the bucket '${bucket}' is in ${actual ? `region ${actual}` : 'another region'}${at}; set storage.s3.region or AWS_REGION${actual ? ` to ${actual}` : ''}`;
    }
    case 'unreachable':
      return `cannot reach the store${at || ' (AWS S3)'}: ${networkWords(e)}${tries}; check ${endpointHint}, and that the server is up`;
    case 'timeout':
      return `the store did not answer in time${at}${tries}; check ${endpointHint}, or try again later`;
    case 'server':
      return `the store kept failing (HTTP ${status ?? '?'}${e.name && !/^\d+$/.test(e.name) ? ` ${e.name}` : ''})${tries}${at}; try again later`;
    case 'changed':
      return 'the object changed while it was being read; run again to read the new version';
    default:
      return status ? `the store answered HTTP ${status}${e.name && !/^\d+$/.test(e.name) && e.name !== 'Unknown' ? ` ${e.name}` : ''}${at}` : `${e.message ?? String(e)}`;
  }
}

// What a phase needs to be allowed, in IAM's words.
function permission(phase: S3Phase, bucket: string): string {
  if (phase === 'list') return `list the bucket '${bucket}' (s3:ListBucket) and read its objects (s3:GetObject)`;
  if (phase === 'read') return 'read it (s3:GetObject)';
  return 'write it (s3:PutObject, s3:AbortMultipartUpload)';
}

// Words for a network error code.
function networkWords(e: SdkError): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve (DNS)';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to the host';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'the connection was reset';
    default:
      return e.code && /CERT|TLS|SELF_SIGNED|EPROTO/.test(e.code) ? `TLS failed (${e.code})` : (e.code ?? 'network error');
  }
}

// `text` with the credential values of the environment replaced by '***'.
export function redact(text: string): string {
  let out = text;
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECURITY_TOKEN']) {
    const v = process.env[name];
    if (v && v.length >= 4) out = out.split(v).join('***');
  }
  return out;
}
