// One webhook POST with a timeout per attempt and bounded retries. Network errors, timeouts, 5xx and 429 are
// retried after a doubling delay (or the answer's Retry-After, up to a cap); any other answer is final, so a
// 4xx (a revoked or mistyped webhook) is never sent again. Never throws: the result says what happened, and
// its reason never quotes the URL's secret parts.
import { setTimeout as delay } from 'node:timers/promises';
import { VERSION } from '../version.js';
import { scrubUrl } from '../util/redact-url.js';

export interface PostOptions {
  timeoutMs: number;
  retries: number;
  /** The delay before the first retry; each later one doubles it. */
  backoffMs?: number;
  /** The longest wait a Retry-After answer is honoured for. */
  retryAfterCapMs?: number;
  /** Stops waiting (the scheduler's shutdown): the post fails with what it had so far. */
  signal?: AbortSignal;
}

export type PostResult =
  | { ok: true; attempts: number; status: number }
  | { ok: false; attempts: number; status: number | null; reason: string };

const DEFAULT_BACKOFF_MS = 1000;
const RETRY_AFTER_CAP_MS = 30_000;
/** Bytes of an answer's body kept to explain a refusal. */
const SNIPPET_BYTES = 300;

type Attempt = { done: true; result: PostResult } | { done: false; reason: string; status: number | null; waitMs?: number };

// POST `body` (JSON) to `url`.
export async function postJson(url: string, body: unknown, o: PostOptions): Promise<PostResult> {
  const text = JSON.stringify(body);
  const backoff = o.backoffMs ?? DEFAULT_BACKOFF_MS;
  let last: Extract<Attempt, { done: false }> = { done: false, reason: 'not sent', status: null };
  let attempts = 0;
  while (attempts <= o.retries) {
    if (attempts > 0 && !(await sleep(last.waitMs ?? backoff * 2 ** (attempts - 1), o.signal))) break;
    attempts++;
    const a = await once(url, text, attempts, o);
    if (a.done) return a.result;
    last = a;
  }
  const tried = `${attempts} attempt${attempts === 1 ? '' : 's'}${o.signal?.aborted ? '; stopped by the shutdown' : ''}`;
  return { ok: false, attempts, status: last.status, reason: `${last.reason} (${tried})` };
}

// One attempt: the final result, or why it may be retried.
async function once(url: string, text: string, attempt: number, o: PostOptions): Promise<Attempt> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const retry = (reason: string, status: number | null, waitMs?: number): Attempt => ({ done: false, reason, status, waitMs });
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': `serve-batch/${VERSION}` },
      body: text,
      redirect: 'manual',
      signal,
    });
    const snippet = await bodySnippet(res);
    if (res.status >= 200 && res.status < 300) return { done: true, result: { ok: true, attempts: attempt, status: res.status } };
    const answered = scrubUrl(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`, url);
    if (res.status >= 500 || res.status === 429) return retry(answered, res.status, retryAfter(res.headers.get('retry-after'), o.retryAfterCapMs ?? RETRY_AFTER_CAP_MS));
    const why = res.status >= 300 && res.status < 400 ? `${answered} (redirects are not followed)` : answered;
    return { done: true, result: { ok: false, attempts: attempt, status: res.status, reason: `${why} (not retried)` } };
  } catch (err) {
    if (timeout.aborted) return retry(`no answer within ${o.timeoutMs / 1000} s`, null);
    if (o.signal?.aborted) return retry('stopped', null);
    return retry(scrubUrl(networkReason(err), url), null);
  }
}

// The first line of an answer's body, short (Slack says why in it: `invalid_payload`, `no_service`).
async function bodySnippet(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < SNIPPET_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut short: what came is enough to explain.
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString('utf8').slice(0, SNIPPET_BYTES).split(/\r?\n/)[0].trim();
  return text.length >= SNIPPET_BYTES ? `${text}…` : text;
}

// A fetch failure as one line: undici says `fetch failed` and puts the socket's error in `cause`.
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.message ?? cause.code}`.split('\n')[0];
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

// Retry-After (seconds or an HTTP date) in ms, at most `capMs`; undefined when absent or unreadable.
export function retryAfter(header: string | null, capMs: number, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, ms), capMs);
}

// Wait `ms`; false when `signal` ended the wait.
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return delay(ms, undefined, { signal }).then(() => true, () => false);
}
