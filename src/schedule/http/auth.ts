// The bearer token that allows "run now". Compared in constant time: both sides are hashed to SHA-256 first,
// so timingSafeEqual always compares 32 bytes and neither the token's length nor its bytes leak through
// the time an answer takes.
import { createHash, timingSafeEqual } from 'node:crypto';
import { SbError } from '../../errors.js';

/** Shorter tokens can be guessed over the network; `openssl rand -hex 16` gives 32 characters. */
const MIN_TOKEN_LENGTH = 16;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

// A checked token (`what` names where it came from in the message, never the value).
export function checkToken(raw: string, what = '--http-token'): string {
  const token = raw.trim();
  if (token.length < MIN_TOKEN_LENGTH) throw new SbError('USAGE', `${what} must be at least ${MIN_TOKEN_LENGTH} characters long (make one with: openssl rand -hex 16)`);
  if (/\s/.test(token)) throw new SbError('USAGE', `${what} must not contain spaces (make one with: openssl rand -hex 16)`);
  return token;
}

// A verifier for an Authorization header: true only for `Bearer <token>`.
export function bearerVerifier(token: string): (header: string | undefined) => boolean {
  const want = digest(token);
  return (header) => {
    const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
    return timingSafeEqual(digest(m ? m[1] : ''), want);
  };
}
