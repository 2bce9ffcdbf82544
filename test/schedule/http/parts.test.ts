// The status server's pure parts: the listen address, the token, escaping, drift in records, the wording.
import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../../src/schedule/http/address.js';
import { bearerVerifier, checkToken } from '../../../src/schedule/http/auth.js';
import { escapeHtml, html, jsonScript } from '../../../src/schedule/http/html.js';
import { relative } from '../../../src/schedule/http/page.js';
import { driftOf, errorLine } from '../../../src/schedule/http/runs.js';
import { cronInWords } from '../../../src/schedule/http/words.js';

describe('parseListenAddress', () => {
  it('a port alone is this host only; other hosts are written out', () => {
    expect(parseListenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464, loopback: true, source: '--http' });
    expect(parseListenAddress('127.0.0.1:9464')).toMatchObject({ host: '127.0.0.1', loopback: true });
    expect(parseListenAddress('localhost:1')).toMatchObject({ host: 'localhost', loopback: true });
    expect(parseListenAddress('[::1]:9464')).toMatchObject({ host: '::1', loopback: true });
    expect(parseListenAddress('0.0.0.0:9464')).toMatchObject({ host: '0.0.0.0', loopback: false });
    expect(parseListenAddress('[::]:9464')).toMatchObject({ host: '::', loopback: false });
    expect(parseListenAddress('10.1.2.3:80')).toMatchObject({ loopback: false });
  });

  it('refuses what is not an address, naming where it came from', () => {
    const msg = (raw: string, what?: string) => {
      try {
        parseListenAddress(raw, what);
      } catch (err) {
        return (err as Error).message.split(';')[0];
      }
      return 'accepted';
    };
    expect(msg(':9464')).toBe('--http ":9464": the host is missing (an empty host would listen on every interface)');
    expect(msg('example.com:80', 'SERVE_BATCH_HTTP')).toBe('SERVE_BATCH_HTTP "example.com:80": example.com is not an IP address (names other than localhost are not looked up)');
    expect(msg('127.0.0.1:70000')).toBe('--http "127.0.0.1:70000": port 70000 is out of range 0-65535');
    expect(msg('[1.2.3.4]:80')).toBe('--http "[1.2.3.4]:80": 1.2.3.4 is not an IPv6 address');
    expect(msg('::1:80')).toBe('--http "::1:80": not an address');
    expect(msg('http://127.0.0.1:80')).toBe('--http "http://127.0.0.1:80": not an address');
  });
});

describe('the token', () => {
  it('must be long enough and have no spaces; the message never shows it', () => {
    expect(checkToken(' 0123456789abcdef ')).toBe('0123456789abcdef');
    expect(() => checkToken('short-secret')).toThrow('--http-token must be at least 16 characters long (make one with: openssl rand -hex 16)');
    expect(() => checkToken('0123456789 abcdef', 'SERVE_BATCH_HTTP_TOKEN')).toThrow(/^SERVE_BATCH_HTTP_TOKEN must not contain spaces/);
  });

  it('only `Bearer <token>` passes', () => {
    const ok = bearerVerifier('0123456789abcdef');
    expect(ok('Bearer 0123456789abcdef')).toBe(true);
    expect(ok('bearer 0123456789abcdef')).toBe(true);
    for (const bad of [undefined, '', 'Bearer', 'Bearer ', '0123456789abcdef', 'Basic 0123456789abcdef', 'Bearer 0123456789abcdeF', 'Bearer 0123456789abcdef0', 'Bearer 0123456789abcdef x']) expect(ok(bad), String(bad)).toBe(false);
  });
});

describe('escaping', () => {
  it('escapes every interpolated value, never the template', () => {
    const name = '<img src=x onerror=alert(1)>';
    expect(html`<td title="${name}">${name}${[name, 1]}${null}${false}</td>`.text).toBe(
      '<td title="&lt;img src=x onerror=alert(1)&gt;">&lt;img src=x onerror=alert(1)&gt;&lt;img src=x onerror=alert(1)&gt;1</td>',
    );
    expect(escapeHtml(`"'&`)).toBe('&quot;&#39;&amp;');
    expect(html`<p>${html`<b>${'&'}</b>`}</p>`.text).toBe('<p><b>&amp;</b></p>');
  });

  it('JSON in a script block cannot close it', () => {
    const text = jsonScript({ e: '</script><script>alert(1)</script>', s: '\u2028' }).text;
    expect(text).not.toContain('<');
    expect(JSON.parse(text)).toEqual({ e: '</script><script>alert(1)</script>', s: '\u2028' });
  });
});

describe('drift in run records', () => {
  const want = { metric: 'psi', warn_at: 0.1, fail_at: 0.25, columns: [{ column: 'tenure', value: 0.3, missing_ratio: 0.02, level: 'fail' }] };

  it('reads a monitor section with a list of columns', () => {
    expect(driftOf({ monitor: { metric: 'psi', warn_at: 0.1, fail_at: 0.25, columns: [{ column: 'tenure', psi: 0.3, js: 0.1, missing_ratio: 0.02, level: 'fail' }] } })).toEqual(want);
  });

  it('reads a monitor section keyed by column, and a bare drift section', () => {
    expect(driftOf({ monitor: { metric: 'psi', warn_at: 0.1, fail_at: 0.25, drift: { tenure: { value: 0.3, missing_rate: 0.02, status: 'fail' } } } })).toEqual(want);
    expect(driftOf({ drift: { tenure: 0.3, monthly: 0.01 } })).toEqual({
      metric: null,
      warn_at: null,
      fail_at: null,
      columns: [
        { column: 'tenure', value: 0.3, missing_ratio: null, level: null },
        { column: 'monthly', value: 0.01, missing_ratio: null, level: null },
      ],
    });
    expect(driftOf({ drift: [{ name: 'a', js: 0.5 }] })?.columns).toEqual([{ column: 'a', value: 0.5, missing_ratio: null, level: null }]);
  });

  it('is null for records without one, or with nothing usable', () => {
    expect(driftOf({ status: 'ok' })).toBeNull();
    expect(driftOf({ monitor: { columns: 'x' } })).toBeNull();
    expect(driftOf({ monitor: { columns: [{ nope: 1 }, 5] } })).toBeNull();
  });
});

describe('words', () => {
  it('says schedules in words and times relative to now', () => {
    expect(cronInWords('*/2 * * * * *')).toBe('Every 2 seconds');
    expect(cronInWords('45 2 * * 1-5')).toBe('At 02:45, Monday through Friday');
    expect(cronInWords('@daily')).toBe('At 00:00');
    expect(relative(61_000, 0)).toBe('in 1 min 01 s');
    expect(relative(0, 3 * 3600_000 + 5 * 60_000)).toBe('3 h 05 min ago');
    expect(relative(3 * 86_400_000, 0)).toBe('in 3 d 0 h');
    expect(errorLine(`first\nsecond`)).toBe('first');
    expect(errorLine('x'.repeat(600))).toHaveLength(500);
  });
});
