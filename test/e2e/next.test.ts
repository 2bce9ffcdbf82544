// `serve-batch next`: the acceptance cases through `next --json`, and the exit-2 cases — through main() in this
// process, and the spawned CLI for one of each.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { cli, tempDir } from './helpers.js';

const dir = tempDir('sb-next-');

// A job file with just enough to load; `next` needs no model or data.
function job(name: string, schedule: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nmodel: m.onnx\ninput: in/*.csv\nfeatures: {columns: [a]}\noutput: out.csv\n${schedule}\n`);
  return file;
}

// `next` in this process, with its exit code as `code` (the spawned CLI's name for it).
const next = async (args: string[]) => {
  const r = await runMain(['next', ...args]);
  return { ...r, code: r.status };
};

// `next --json` → the UTC instants.
async function utc(cron: string, tz: string, from: string, n: number): Promise<string[]> {
  const file = job(`j${Math.random().toString(16).slice(2, 8)}`, `schedule: { cron: "${cron}", timezone: ${tz} }`);
  const r = await next([file, '-n', String(n), '--from', from, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { job: string; timezone: string; fires: { utc: string; local: string }[] };
  expect(out.timezone).toBe(tz);
  return out.fires.map((f) => f.utc);
}

describe('serve-batch next --json (acceptance)', () => {
  it('0 2 * * * Asia/Seoul', async () => {
    expect(await utc('0 2 * * *', 'Asia/Seoul', '2026-11-24T00:00Z', 2)).toEqual(['2026-11-24T17:00:00.000Z', '2026-11-25T17:00:00.000Z']);
  });

  it('45 2 * * * America/New_York across spring-forward: one fire on 2025-03-09 at 07:00Z (spawned)', async () => {
    const file = job('gap', 'schedule: { cron: "45 2 * * *", timezone: America/New_York }');
    const r = await cli(['next', file, '-n', '3', '--from', '2025-03-07T12:00Z', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      job: 'gap',
      timezone: 'America/New_York',
      cron: '45 2 * * *',
      from: '2025-03-07T12:00:00.000Z',
      fires: [
        { utc: '2025-03-08T07:45:00.000Z', local: '2025-03-08T02:45:00-05:00' },
        { utc: '2025-03-09T07:00:00.000Z', local: '2025-03-09T03:00:00-04:00' },
        { utc: '2025-03-10T06:45:00.000Z', local: '2025-03-10T02:45:00-04:00' },
      ],
    });
  });

  it('30 1 * * * America/New_York across fall-back: exactly one fire on 2025-11-02', async () => {
    const got = await utc('30 1 * * *', 'America/New_York', '2025-11-01T12:00Z', 3);
    expect(got.filter((d) => d.startsWith('2025-11-02'))).toEqual(['2025-11-02T05:30:00.000Z']);
    expect(got).toEqual(['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z', '2025-11-04T06:30:00.000Z']);
  });

  it('0 0 1 * 1 UTC: the 1st of the month OR Mondays', async () => {
    expect(await utc('0 0 1 * 1', 'UTC', '2026-11-24T00:00Z', 3)).toEqual(['2026-11-30T00:00:00.000Z', '2026-12-01T00:00:00.000Z', '2026-12-07T00:00:00.000Z']);
  });

  it('*/10 * * * * * every 10 s', async () => {
    expect(await utc('*/10 * * * * *', 'UTC', '2026-11-24T00:00:00Z', 3)).toEqual(['2026-11-24T00:00:10.000Z', '2026-11-24T00:00:20.000Z', '2026-11-24T00:00:30.000Z']);
  });
});

describe('serve-batch next: user errors exit 2 with one line each and no stack', () => {
  it('a job without schedule (spawned)', async () => {
    const r = await cli(['next', job('adhoc', ''), '--log-format', 'text']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: job adhoc (${path.join(dir, 'adhoc.yaml')}) has no schedule: it runs only on demand (add schedule: { cron: ... })\n`);
  });

  it('an invalid cron and time zone, each with its YAML path', async () => {
    const file = job('bad', 'schedule:\n  cron: "0 25 * * *"\n  timezone: Europe/Berln');
    const r = await next([file, '--log-format', 'text']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/bad\.yaml:7:9: invalid cron expression "0 25 \* \* \*": field 2 \(hour\) value 25 is out of range 0-23 \(at schedule\.cron\)$/);
    expect(lines[1]).toMatch(/bad\.yaml:8:13: unknown time zone "Europe\/Berln", did you mean 'Europe\/Berlin'\? \(at schedule\.timezone\)$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a --from without a UTC offset, and a bad -n', async () => {
    const file = job('ok', 'schedule: "0 2 * * *"');
    const r = await next([file, '--from', '2026-11-24 00:00', '--log-format', 'text']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --from must be an instant with a UTC offset, like 2025-03-07T12:00:00Z/);
    const n = await next([file, '-n', 'many']);
    expect(n.code).toBe(2);
    expect(n.stderr).toMatch(/argument 'many' is invalid\. give a whole number from 1 to 1000\./);
  });

  it('a missing job file', async () => {
    const r = await next([path.join(dir, 'nope.yaml'), '--log-format', 'text']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: job file not found: .*nope\.yaml\n$/);
  });
});
