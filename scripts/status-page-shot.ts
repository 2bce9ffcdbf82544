// Takes the README's picture of the status page: `npm run docs:screenshot` writes docs/status-page.png.
// Three jobs on the example model and data, with a month of history written as run records (what the
// scheduler reads; a real month cannot be waited for), one of them failing now and then and one carrying
// per-column drift; then the real scheduler serves the page and Debian's chromium takes the picture.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { loadJob } from '../src/job/load.js';
import { newRunId, recordPath, startRecord, writeRecord, type RunRecord } from '../src/run/record.js';
import { upcomingFires } from '../src/schedule/fires.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const OUT = path.join(ROOT, 'docs/status-page.png');
const HOUR = 3_600_000;

// A job file in `dir`/jobs scoring the example customers with the linear model.
function writeJob(dir: string, name: string, schedule: string): string {
  const file = path.join(dir, 'jobs', `${name}.yaml`);
  const body = [
    `name: ${name}`,
    `model: ${path.join(ROOT, 'fixtures/models/linear_binary.onnx')}`,
    `input: ${path.join(ROOT, 'fixtures/data/customers.csv')}`,
    'features:',
    '  columns: [tenure, monthly, support_calls]',
    'passthrough: [customer_id]',
    'output: ../out/{job}/{input_stem}.csv',
    'state_dir: ../state',
    `schedule: ${schedule}`,
  ];
  writeFileSync(file, `${body.join('\n')}\n`);
  return file;
}

// A deterministic pseudo-random sequence (the picture is the same every time).
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

interface Shape {
  every: number;
  runs: number;
  rows: number;
  seconds: number;
  failEvery?: number;
  error?: string;
  drift?: boolean;
}

// `shape.runs` records of a job, the newest `shape.every` ms before now.
function history(file: string, shape: Shape, seed: number): void {
  const job = loadJob(file);
  const rnd = random(seed);
  const now = Date.now();
  // The job's own fires before now (weekdays only for a weekday schedule), each run starting 2 s after.
  const fires = upcomingFires(job.schedule!, new Date(now - 4 * shape.runs * shape.every), 4 * shape.runs).filter((d) => d.getTime() < now).slice(-shape.runs);
  for (let i = fires.length; i >= 1; i--) {
    const started = new Date(fires[fires.length - i].getTime() + 2000);
    const failed = shape.failEvery !== undefined && i % shape.failEvery === 1;
    const rows = Math.round(shape.rows * (0.85 + 0.3 * rnd()));
    const rejected = failed ? 0 : Math.round(rows * 0.004 * rnd());
    const ms = Math.round(shape.seconds * 1000 * (0.8 + 0.5 * rnd()) * (rows / shape.rows));
    const r: RunRecord & { monitor?: unknown } = startRecord(job, newRunId(started), started, { trigger: 'schedule', schedule: { scheduled_for: new Date(started.getTime() - 2000).toISOString(), attempt: 1, reason: 'schedule' }, onnxruntime: '1.30.0' });
    r.ended_at = new Date(started.getTime() + ms).toISOString();
    r.duration_ms = ms;
    r.status = failed ? 'failed' : 'ok';
    r.exit_code = failed ? 1 : 0;
    r.error = failed ? (shape.error ?? null) : null;
    r.totals = { inputs: 1, failed: failed ? 1 : 0, skipped: 0, rows_in: failed ? 0 : rows, rows_out: failed ? 0 : rows - rejected, rows_rejected: rejected };
    if (shape.drift && !failed) {
      const t = (shape.runs - i) / shape.runs;
      r.monitor = {
        metric: 'psi',
        warn_at: 0.1,
        fail_at: 0.25,
        columns: [
          { column: 'tenure', psi: 0.02 + 0.02 * rnd(), missing_ratio: 0 },
          { column: 'monthly', psi: 0.03 + 0.2 * t * t + 0.02 * rnd(), missing_ratio: 0.01 },
          { column: 'support_calls', psi: 0.05 + 0.03 * rnd(), missing_ratio: 0 },
        ],
      };
    }
    void writeRecord(recordPath(job.stateDir, job.name, r.run_id), r);
  }
}

async function main(): Promise<void> {
  // A fixed folder: its path is in the picture.
  const dir = path.join(tmpdir(), 'serve-batch-demo');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  try {
    const churn = writeJob(dir, 'churn-nightly', '{ cron: "30 2 * * *", timezone: Europe/Paris }');
    const upsell = writeJob(dir, 'upsell-hourly', '"5 * * * *"');
    const fraud = writeJob(dir, 'fraud-15min', '"*/15 * * * 1-5"');
    history(churn, { every: 24 * HOUR, runs: 30, rows: 1_200_000, seconds: 95, drift: true }, 1);
    history(upsell, { every: HOUR, runs: 30, rows: 180_000, seconds: 14, failEvery: 11, error: "/data/crm/upsell-2026-12-07T06.csv:1: column 'monthly' is not in the header, did you mean 'monthly_fee'? (columns: customer_id, tenure, monthly_fee, support_calls)" }, 2);
    history(fraud, { every: HOUR / 4, runs: 30, rows: 25_000, seconds: 3 }, 3);
    await new Promise((r) => setTimeout(r, 500));
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/serve-batch.js'), 'schedule', path.join(dir, 'jobs'), '--http', '127.0.0.1:0', '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stderr! }).on('line', (line) => {
        const e = JSON.parse(line) as { event: string; url?: string };
        if (e.event === 'http') resolve(e.url as string);
      });
      child.on('exit', (code) => reject(new Error(`the scheduler exited with ${code}`)));
    });
    const browser = await chromium.launch({ executablePath: process.env.SERVE_BATCH_CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1360 } });
      // Ready: the job files are loaded (the page lists them) and the charts are drawn.
      for (;;) {
        await page.goto(url);
        if ((await page.$$('figure.chart canvas')).length >= 4) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      mkdirSync(path.dirname(OUT), { recursive: true });
      await page.screenshot({ path: OUT });
      process.stdout.write(`${OUT}\n`);
    } finally {
      await browser.close();
      child.kill('SIGTERM');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
