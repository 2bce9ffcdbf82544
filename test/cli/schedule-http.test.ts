// `schedule --http` and `--http-token` through main() in this process: every mistake is one line and exit 2
// before anything is loaded; an address beyond this host is said to be exposed; the token is never logged.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { runMain, tempDir, writeFiles } from '../support/cli.js';

const TOKEN = 'tok-5f1d2c3b4a596877';
// A text log line without its leading timestamp.
const untimed = (line: string) => line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, '');
const lines = (stderr: string) => stderr.trim().split('\n').map(untimed);

// A jobs folder whose only job file is invalid: the scheduler stops with exit 2 after the HTTP server started.
function badJobs(): string {
  const dir = tempDir('sb-http-cli-');
  writeFiles(dir, { 'jobs/bad.yaml': 'name: bad\nbogus: 1\n' });
  return `${dir}/jobs`;
}

describe('schedule --http', () => {
  it('mistakes are one line and exit 2', async () => {
    const cases: [string[], Record<string, string | undefined>, string][] = [
      [['--http-token', TOKEN], {}, 'error: --http-token needs --http (or SERVE_BATCH_HTTP): it allows "run now" on the status server'],
      [['--http', 'nonsense'], {}, 'error: --http "nonsense": not an address; give HOST:PORT, e.g. 127.0.0.1:9464 (this host only), 0.0.0.0:9464 or [::]:9464 (every interface), or a port alone for 127.0.0.1'],
      [[], { SERVE_BATCH_HTTP: ':9464' }, 'error: SERVE_BATCH_HTTP ":9464": the host is missing (an empty host would listen on every interface); give HOST:PORT, e.g. 127.0.0.1:9464 (this host only), 0.0.0.0:9464 or [::]:9464 (every interface), or a port alone for 127.0.0.1'],
      [['--http', '127.0.0.1:0', '--http-token', 'short'], {}, 'error: --http-token must be at least 16 characters long (make one with: openssl rand -hex 16)'],
      [['--http', '127.0.0.1:0'], { SERVE_BATCH_HTTP_TOKEN: 'short token' }, 'error: SERVE_BATCH_HTTP_TOKEN must be at least 16 characters long (make one with: openssl rand -hex 16)'],
    ];
    for (const [args, env, line] of cases) {
      const r = await runMain(['schedule', 'nowhere', '--log-format', 'text', ...args], { env: { SERVE_BATCH_HTTP: undefined, SERVE_BATCH_HTTP_TOKEN: undefined, ...env } });
      expect(r.status, args.join(' ')).toBe(2);
      expect(lines(r.stderr)).toEqual([line]);
    }
  });

  it('an address in use is one line and exit 2', async () => {
    const other = net.createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const port = (other.address() as net.AddressInfo).port;
    try {
      const r = await runMain(['schedule', 'nowhere', '--log-format', 'text', '--http', `127.0.0.1:${port}`]);
      expect(r.status).toBe(2);
      expect(lines(r.stderr)).toEqual([`error: --http 127.0.0.1:${port}: cannot listen: the address is in use (another process listens there; choose another port)`]);
    } finally {
      other.close();
    }
  });

  it('listens before loading the job files, says where, and stops listening when the scheduler ends', async () => {
    const r = await runMain(['schedule', badJobs(), '--log-format', 'json', '--http', '127.0.0.1:0', '--http-token', TOKEN]);
    expect(r.status).toBe(2);
    const logs = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const http = logs[0];
    expect(http).toMatchObject({ level: 'info', event: 'http', exposed: false, run_now: true });
    expect(http.msg).toBe(`status page, probes and metrics on ${http.url} (this host only; read-only, except run now with the token)`);
    expect(logs.map((l) => l.event)).toEqual(['http', ...logs.slice(1, -1).map(() => 'problem'), 'invalid']);
    expect(r.stderr).not.toContain(TOKEN);
    const refused = await new Promise<string>((resolve) => net.connect(Number(/:(\d+)\/$/.exec(http.url)![1]), '127.0.0.1').on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '')).on('connect', () => resolve('connected')));
    expect(refused).toBe('ECONNREFUSED');
  });

  it('an address beyond this host is logged as exposed (a warning)', async () => {
    const r = await runMain(['schedule', badJobs(), '--log-format', 'text'], { env: { SERVE_BATCH_HTTP: '0.0.0.0:0', SERVE_BATCH_HTTP_TOKEN: undefined } });
    expect(r.status).toBe(2);
    expect(lines(r.stderr)[0]).toMatch(/^warning: status page, probes and metrics on http:\/\/0\.0\.0\.0:\d+\/: exposed beyond this host, to every network that reaches 0\.0\.0\.0 \(read-only\)$/);
  });
});
