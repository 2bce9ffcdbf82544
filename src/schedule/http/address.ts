// Where the status server listens: `--http` / SERVE_BATCH_HTTP. A port alone listens on this host only
// (127.0.0.1); any other host must be written out, so the pages and metrics reach other machines only when
// someone asked for it.
import { isIP } from 'node:net';
import { SbError } from '../../errors.js';

export interface ListenAddress {
  host: string;
  port: number;
  /** Only this host can connect (127.0.0.0/8, ::1, localhost). */
  loopback: boolean;
  /** Where it was given (`--http`, `SERVE_BATCH_HTTP`), for messages. */
  source: string;
}

const USAGE = 'give HOST:PORT, e.g. 127.0.0.1:9464 (this host only), 0.0.0.0:9464 or [::]:9464 (every interface), or a port alone for 127.0.0.1';

// Whether a listen host is reachable from this machine only.
function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

// The address in `--http`'s value (`what` names the option or variable in the message).
export function parseListenAddress(raw: string, what = '--http'): ListenAddress {
  const value = raw.trim();
  const bad = (why: string) => new SbError('USAGE', `${what} "${raw}": ${why}; ${USAGE}`);
  let host: string;
  let port: string;
  if (/^\d+$/.test(value)) {
    host = '127.0.0.1';
    port = value;
  } else {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d+)$/.exec(value);
    if (!m) throw bad('not an address');
    host = m[1] ?? m[2];
    port = m[3];
    if (host === '') throw bad('the host is missing (an empty host would listen on every interface)');
    if (m[1] !== undefined && isIP(host) !== 6) throw bad(`${host} is not an IPv6 address`);
    if (m[2] !== undefined && host !== 'localhost' && isIP(host) !== 4) throw bad(`${host} is not an IP address (names other than localhost are not looked up)`);
  }
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw bad(`port ${port} is out of range 0-65535`);
  return { host, port: n, loopback: isLoopback(host), source: what };
}

// host:port as a URL authority (IPv6 in brackets).
export function authority(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
