// `notify:` in job files and in a folder's _defaults.yaml: the normalized webhooks, and each mistake as one
// line with its file, position and YAML path, never showing a URL that came from the environment.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { loadJob } from '../../src/job/load.js';
import { findJobFiles } from '../../src/schedule/jobs.js';
import { displayPath } from '../../src/util/display.js';
import { expectOneLineError, runMain, tempDir, writeFiles } from '../support/cli.js';

const BASE = 'model: m.onnx\ninput: in/*.csv\nfeatures: { columns: [a] }\noutput: out/{input_stem}.csv\n';
const SLACK = 'https://hooks.slack.com/services/T000/B000/SECRETSECRET';

// Write the files into a fresh folder and load its job.yaml.
function load(files: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const d = tempDir();
  writeFiles(d, files);
  return loadJob(path.join(d, 'job.yaml'), env);
}

// The problems of loading job.yaml from these files.
function problems(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): { message: string; problems: string[]; dir: string } {
  const d = tempDir();
  writeFiles(d, files);
  try {
    loadJob(path.join(d, 'job.yaml'), env);
  } catch (err) {
    expect(err).toBeInstanceOf(SbError);
    expect((err as SbError).code).toBe('JOB_INVALID');
    return { message: (err as SbError).message, problems: (err as SbError).context.problems ?? [], dir: d };
  }
  throw new Error('expected the job to be invalid');
}

describe('notify: in a job file', () => {
  it('normalizes each webhook with its defaults and names one from the environment by its variable', () => {
    const job = load({ 'job.yaml': `${BASE}notify:\n  - on: [failed, alert, skipped]\n    webhook: \${SLACK_WEBHOOK_URL}\n    format: slack\n  - on: ok\n    webhook: http://127.0.0.1:9000/hook\n    timeout: 2s\n    retries: 0\n` }, { SLACK_WEBHOOK_URL: SLACK });
    expect(job.notify).toEqual([
      { on: ['failed', 'alert', 'skipped'], url: SLACK, shown: '${SLACK_WEBHOOK_URL} (https://hooks.slack.com/services/***)', format: 'slack', timeoutMs: 10_000, retries: 3 },
      { on: ['ok'], url: 'http://127.0.0.1:9000/hook', shown: 'http://127.0.0.1:9000/***', format: 'json', timeoutMs: 2000, retries: 0 },
    ]);
    expect(load({ 'job.yaml': BASE }).notify).toBeUndefined();
    expect(load({ 'job.yaml': `${BASE}notify: []\n` }).notify).toEqual([]);
  });

  it.each([
    ['    webhook: ftp://example.com/x\n', /job\.yaml:7:14: must be an http:\/\/ or https:\/\/ URL with a host; got a ftp: URL \(at notify\.0\.webhook\)$/],
    ['    webhook: hooks.slack.com/services/x\n', /job\.yaml:7:14: must be an http:\/\/ or https:\/\/ URL with a host, like https:\/\/hooks\.slack\.com\/services\/\.\.\.; this is not a URL \(at notify\.0\.webhook\)$/],
    ['    webhook: ${HOOK}\n', /job\.yaml:7:14: \$\{HOOK\} does not hold an http:\/\/ or https:\/\/ URL with a host \(values from the environment are not shown\) \(at notify\.0\.webhook\)$/],
    ['    webhook: ${UNSET_HOOK}\n', /job\.yaml:7:14: environment variable UNSET_HOOK is not set: export it or write \$\{UNSET_HOOK:-default\} \(at notify\.0\.webhook\)$/],
    ['    webhook: http://x.test/\n    format: teams\n', /job\.yaml:8:13: must be one of "json", "slack" \(at notify\.0\.format\)$/],
    ['    webhook: http://x.test/\n    formt: slack\n', /job\.yaml:8:5: unknown key 'formt', did you mean 'format'\? \(at notify\.0\.formt\)$/],
    ['    webhook: http://x.test/\n    retries: 50\n', /job\.yaml:8:14: .*10.* \(at notify\.0\.retries\)$/],
    ['    webhook: http://x.test/\n    timeout: 0s\n', /job\.yaml:8:14: must be longer than 0 .*\(at notify\.0\.timeout\)$/],
  ])('%s → one line with the YAML path', (lines, expected) => {
    const r = problems({ 'job.yaml': `${BASE}notify:\n  - on: [failed]\n${lines}` }, { HOOK: 'ftp://user:SECRETSECRET@files.test/SECRETPATH' });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(expected);
    expect(r.problems[0]).not.toContain('SECRET');
  });

  it('an unknown event is named with the ones allowed; `on` is required', () => {
    const bad = problems({ 'job.yaml': `${BASE}notify:\n  - on: [failed, sometimes]\n    webhook: http://x.test/\n` });
    expect(bad.problems).toEqual([expect.stringMatching(/job\.yaml:6:18: must be one of "ok", "failed", "alert", "skipped", "interrupted" \(at notify\.0\.on\.1\)$/)]);
    const missing = problems({ 'job.yaml': `${BASE}notify:\n  - webhook: http://x.test/\n` });
    expect(missing.problems).toEqual([expect.stringMatching(/required key is missing \(at notify\.0\.on\)$/)]);
  });
});

describe("a folder's _defaults.yaml", () => {
  const DEFAULTS = `notify:\n  - on: [failed]\n    webhook: \${SLACK_WEBHOOK_URL}\n    format: slack\n`;

  it('gives its notify: to each job file beside it that has none; a job\'s own notify: (even []) replaces it', () => {
    const env = { SLACK_WEBHOOK_URL: SLACK };
    expect(load({ '_defaults.yaml': DEFAULTS, 'job.yaml': BASE }, env).notify).toEqual([{ on: ['failed'], url: SLACK, shown: '${SLACK_WEBHOOK_URL} (https://hooks.slack.com/services/***)', format: 'slack', timeoutMs: 10_000, retries: 3 }]);
    expect(load({ '_defaults.yaml': DEFAULTS, 'job.yaml': `${BASE}notify: []\n` }, env).notify).toEqual([]);
    expect(load({ '_defaults.yaml': DEFAULTS, 'job.yaml': `${BASE}notify:\n  - { on: ok, webhook: "http://x.test/" }\n` }, env).notify?.map((t) => t.on)).toEqual([['ok']]);
  });

  it('is validated like a job file: each problem with its own file, position and YAML path', () => {
    const keys = problems({ '_defaults.yaml': `notify:\n  - on: [failed]\n    webhook: http://x.test/\n    fromat: slack\nschedule: "0 2 * * *"\n`, 'job.yaml': BASE });
    const shown = displayPath(path.join(keys.dir, '_defaults.yaml'));
    expect(keys.message).toBe(`folder defaults file ${shown} is invalid (2 problems)`);
    expect(keys.problems).toEqual([`${shown}:4:5: unknown key 'fromat', did you mean 'format'? (at notify.0.fromat)`, `${shown}:5:1: unknown key 'schedule' (at schedule)`]);
    const url = problems({ '_defaults.yaml': `notify:\n  - on: [failed]\n    webhook: \${HOOK}\n`, 'job.yaml': BASE }, { HOOK: 'gopher://SECRETSECRET' });
    const at = displayPath(path.join(url.dir, '_defaults.yaml'));
    expect(url.problems).toEqual([`${at}:3:14: \${HOOK} does not hold an http:// or https:// URL with a host (values from the environment are not shown) (at notify.0.webhook)`]);
  });

  it('is not a job: the scheduler does not load it, and `run` says what it is', async () => {
    const d = tempDir();
    writeFiles(d, { '_defaults.yaml': 'notify: []\n', 'a.yaml': BASE });
    expect((await findJobFiles([d])).files).toEqual([path.join(d, 'a.yaml')]);
    const r = await runMain(['run', path.join(d, '_defaults.yaml')]);
    expect(r.status).toBe(2);
    expect(expectOneLineError(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('holds settings for the job files in its folder, not a job: give one of those job files');
  });

  it('one that cannot be read stops the run of a job beside it: exit 2, one line naming it', async () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': BASE });
    mkdirSync(path.join(d, '_defaults.yaml'));
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--log-format', 'text']);
    expect(r.status).toBe(2);
    expect(expectOneLineError(r.stderr)).toEqual([expect.stringMatching(/^error: cannot read .*_defaults\.yaml \(settings for the job files in its folder\): EISDIR: /)]);
  });

  it('validate: a webhook from the environment that is not a URL exits 2 with one line, the value not shown', async () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': `${BASE}notify:\n  - on: failed\n    webhook: \${SLACK_WEBHOOK_URL}\n` });
    const r = await runMain(['validate', path.join(d, 'job.yaml')], { env: { SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T0/B0/SECRETSECRET' } });
    expect(r.status).toBe(2);
    const lines = expectOneLineError(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('${SLACK_WEBHOOK_URL} does not hold an http:// or https:// URL with a host (values from the environment are not shown) (at notify.0.webhook)');
    expect(r.stderr + r.stdout).not.toContain('SECRET');
  });
});
