// The status page in a real browser (Debian's chromium through playwright-core) against a real `schedule`
// process with schedules a few seconds apart: the page lists the jobs, shows a run within seconds of its fire
// without being reloaded, shows a failed run's error (markup in it as text), draws a point per run, and
// starts a run with the token. A screenshot is kept in artifacts/ (git-ignored).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLines, ROOT, runRecords, startCli, tempDir, writeCsv, writeJob, type Running } from '../e2e/helpers.js';

/** Debian's chromium (CI installs it: .ci/run). */
const CHROMIUM = process.env.SERVE_BATCH_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const TOKEN = 'browser-test-token-8d0c1f27';
const MARKUP = '<img src=x onerror=alert(1)>';
const ARTIFACTS = path.join(ROOT, 'artifacts');

let browser: Browser;
let page: Page;
let sched: Running;
let url: string;
let dir: string;
const problems: string[] = [];
const dialogs: string[] = [];

// Three fires four seconds apart, all within one minute, starting at least 8 s from now: a cron for them.
function burst(): string {
  let first = Math.ceil((Date.now() + 8000) / 1000) * 1000;
  if (new Date(first).getUTCSeconds() > 50) first = Math.ceil(first / 60_000) * 60_000 + 1000;
  const d = new Date(first);
  const seconds = [0, 4, 8].map((s) => d.getUTCSeconds() + s).join(',');
  return `${seconds} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium (.ci/run does)`);
  dir = tempDir('sb-browser-');
  const jobs = path.join(dir, 'jobs');
  mkdirSync(jobs);
  mkdirSync(path.join(dir, 'in'));
  mkdirSync(path.join(dir, 'bad'));
  writeCsv(path.join(dir, 'in/a.csv'), 20);
  // A file whose name is markup and whose header lacks a feature column: the run fails naming it.
  writeFileSync(path.join(dir, 'bad', `${MARKUP}.csv`), 'id,a,b\nr1,1,2\n');
  const common = { output: '../out/{job}/{input_stem}.csv', stateDir: '../state' };
  // A run's process every 2 s in all: enough to watch, light on a 2-core machine running other tests.
  writeJob(jobs, 'steady', { ...common, input: '../in/*.csv', extra: 'schedule: "*/4 * * * * *"' });
  writeJob(jobs, 'broken', { ...common, input: '"../bad/*.csv"', extra: 'schedule: "2/4 * * * * *"' });
  writeJob(jobs, 'adhoc', { ...common, input: '../in/*.csv' });
  sched = startCli(['schedule', jobs, '--http', '127.0.0.1:0', '--http-token', TOKEN]);
  url = String((await sched.waitForLog((e) => e.event === 'http')).url);
  await sched.waitForLog((e) => e.event === 'loaded' && e.job === 'steady', 30_000);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void (d.type() === 'prompt' ? d.accept(TOKEN) : d.dismiss());
  });
  await page.goto(url);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (sched && sched.child.exitCode === null) {
    sched.child.kill('SIGTERM');
    await sched.done;
  }
});

// The run ids listed in a job's table of runs on the page.
const listed = (job: string) => page.$$eval(`#job-${job} table.runs tbody tr td:first-child code`, (els) => els.map((e) => e.textContent ?? ''));

describe('the status page in a browser', () => {
  it('lists every job with its schedule in words, a countdown to its next fire and a legend', async () => {
    const rows = await page.$$eval('table.jobs tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.job));
    expect(rows).toEqual(['adhoc', 'broken', 'steady']);
    expect(await page.textContent('tr[data-job="steady"] td.schedule')).toContain('Every 4 seconds');
    expect(await page.textContent('tr[data-job="adhoc"] td.schedule')).toContain('on demand');
    expect(await page.textContent('tr[data-job="steady"] td.next time')).toMatch(/^(in [1-4] s|now)$/);
    expect(await page.$$eval('ul.legend li', (lis) => lis.length)).toBe(7);
  });

  it('shows a run within seconds of its fire, without a reload', async () => {
    // A fire after the page was drawn, of a run it does not list yet.
    const shown = new Set(await listed('steady'));
    const since = Date.now();
    const fired = await sched.waitForLog((e) => e.event === 'fired' && e.job === 'steady' && !shown.has(String(e.run_id)) && Date.parse(String(e.time)) >= since, 20_000);
    await page.waitForSelector(`#job-steady table.runs a[href="/api/jobs/steady/runs/${String(fired.run_id)}"]`, { timeout: 20_000 });
    expect(await page.textContent('tr[data-job="steady"] td.last')).toMatch(/ok|running/);
  });

  it('shows a failed run in red with its error line; markup in the error is text', async () => {
    const failed = await sched.waitForLog((e) => e.event === 'failed' && e.job === 'broken', 20_000);
    await page.waitForSelector(`#job-broken table.runs a[href$="${String(failed.run_id)}"]`, { timeout: 20_000 });
    const error = await page.textContent('tr[data-job="broken"] td.error .err');
    expect(error).toContain(`${MARKUP}.csv`);
    expect(error).toMatch(/column 'c' is not in the header/);
    const row = `#job-broken table.runs tbody tr:has(a[href$="${String(failed.run_id)}"])`;
    expect(await page.$eval(`${row} .chip`, (el) => [el.textContent, getComputedStyle(el).color])).toEqual(['failed', 'rgb(207, 34, 46)']);
    expect(await page.textContent(`${row} td.error`)).toContain(`${MARKUP}.csv`);
    expect(await page.$$('img')).toHaveLength(0);
    expect(dialogs).toEqual([]);
  });

  it("draws one point per run in a job's chart, at each run's start", async () => {
    // A job that fires three times, added by a reload (which plans it from now, so none of its fires is missed).
    writeJob(path.join(dir, 'jobs'), 'burst', { output: '../out/{job}/{input_stem}.csv', stateDir: '../state', input: '../in/*.csv', extra: `schedule: "${burst()}"` });
    sched.child.kill('SIGHUP');
    await sched.waitForLog((e) => e.event === 'loaded' && e.job === 'burst', 20_000);
    // Its three fires handled (a fire that comes while the previous run still goes is skipped) and its runs ended.
    const ofBurst = (events: string[]) => logLines(sched.stderr()).filter((x) => x.job === 'burst' && events.includes(x.event)).length;
    await sched.waitForLog(() => ofBurst(['fired', 'skipped']) === 3 && ofBurst(['finished']) === ofBurst(['fired']), 40_000);
    const records = runRecords(path.join(dir, 'state'), 'burst');
    const ran = records.filter((r) => r.status !== 'skipped');
    expect(records).toHaveLength(3);
    await page.waitForFunction(() => document.querySelectorAll('#job-burst table.runs tbody tr').length === 3, undefined, { timeout: 20_000 });
    expect(await page.getAttribute('#job-burst figure[data-chart="rows"]', 'data-points')).toBe(String(ran.length));
    const chart = await page.$eval('#chart-data', (el) => (JSON.parse(el.textContent ?? '') as { jobs: { name: string; t: number[]; rows_in: number[] }[] }).jobs.find((j) => j.name === 'burst'));
    expect(chart?.t).toEqual(ran.map((r) => Date.parse(r.started_at as string) / 1000));
    expect(chart?.rows_in).toEqual(ran.map(() => 20));
    expect(await page.$$eval('#job-burst figure[data-chart="rows"] canvas', (c) => c.length)).toBe(1);
  });

  it('"Run now" asks for the token and starts the job through the scheduler', async () => {
    await page.click('button[data-run="adhoc"]');
    const fired = await sched.waitForLog((e) => e.event === 'fired' && e.job === 'adhoc', 20_000);
    expect(fired).toMatchObject({ reason: 'request', attempt: 1 });
    await page.waitForSelector(`#job-adhoc table.runs a[href$="${String(fired.run_id)}"]`, { timeout: 20_000 });
    expect(dialogs).toEqual([`prompt: Token to start adhoc now (the scheduler's --http-token):`]);
    expect(sched.stderr()).not.toContain(TOKEN);
  });

  it('ran without script errors, blocked requests or outside requests; leaves a screenshot', async () => {
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page.png'), fullPage: true });
    expect(problems).toEqual([]);
    const external = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => !n.startsWith(location.origin)));
    expect(external).toEqual([]);
  });
});
