// The output target under failure: every step of writing every file of the four layouts (a result per input
// or one combined result; a rejects file per input or one shared), made to fail as the disk would, or to stop
// the run there (a signal), through runJob() with real files and ONNX sessions. After each: no temporary
// file, nothing half-written, an earlier run's files intact unless replaced by complete ones, a result never
// without its rejects, and a record that says what is on disk.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import { unreconciled, type InputRecord, type RunRecord } from '../../src/run/record.js';
import { runJob } from '../../src/run/run-job.js';
import { armFailpoint, traceFailpoints, type FailpointName } from '../../src/storage/failpoint.js';
import { listFiles, model } from '../support/cli.js';
import { makeFifo } from '../support/streams.js';
import { tempDir } from '../support/temp-dir.js';

const EARLIER = 'an earlier run wrote this\n';

// Rows for linear_binary (columns a, b, c); `bad` rows (0-based) are rejected (a is not a number).
function csv(rows: number, bad: number[]): string {
  let s = 'id,a,b,c\n';
  for (let i = 0; i < rows; i++) s += `r${i},${bad.includes(i) ? 'oops' : (i % 10) / 10},${(i % 7) / 7},${i % 3}\n`;
  return s;
}

// a and c score with one reject each; b rejects every row and fails (max_rejected 3), after its rejects were written.
const INPUTS: Record<string, string> = { 'a.csv': csv(6, [2]), 'b.csv': csv(6, [0, 1, 2, 3, 4, 5]), 'c.csv': csv(6, [4]) };
const STEMS = ['a', 'b', 'c'];

interface Layout {
  name: string;
  output: string;
  rejects: string;
}

const LAYOUTS: Layout[] = [
  { name: 'a result and a rejects file per input', output: 'out/{input_stem}.csv', rejects: 'rej/{input_stem}.csv' },
  { name: 'a result per input, one shared rejects file', output: 'out/{input_stem}.csv', rejects: 'rej/all.csv' },
  { name: 'one combined result, a rejects file per input', output: 'out/all.csv', rejects: 'rej/{input_stem}.csv' },
  { name: 'one combined result, one shared rejects file', output: 'out/all.csv', rejects: 'rej/all.csv' },
  { name: 'one combined Parquet result, one shared rejects file', output: 'out/all.parquet', rejects: 'rej/all.csv' },
];

const perInput = (template: string) => template.includes('{input_stem}');
const filesOf = (template: string) => (perInput(template) ? STEMS.map((s) => template.replace('{input_stem}', s)) : [template]);

// A directory with the inputs (all, or some of them), and every file the layout writes holding an earlier run's bytes.
function setUp(l: Layout, stems = STEMS): string {
  const d = tempDir('sb-out-');
  mkdirSync(path.join(d, 'in'));
  for (const s of stems) writeFileSync(path.join(d, 'in', `${s}.csv`), INPUTS[`${s}.csv`]);
  for (const f of [...filesOf(l.output), ...filesOf(l.rejects)]) {
    mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    writeFileSync(path.join(d, f), EARLIER);
  }
  return d;
}

function jobIn(d: string, l: Layout) {
  const text = ['name: out-target', `model: ${model('linear_binary')}`, 'input: in/*.csv', 'features: { columns: [a, b, c] }', 'passthrough: [id]', `output: ${JSON.stringify(l.output)}`, `errors: { max_rejected: 3, rejects: ${JSON.stringify(l.rejects)} }`, 'batch_size: 2', 'state_dir: state'].join('\n');
  return parseJob(text, path.join(d, 'job.yaml'));
}

const read = (d: string, f: string) => (existsSync(path.join(d, f)) ? readFileSync(path.join(d, f)) : undefined);
// The lines of a rejects file, with the run's directory taken out of the inputs' paths.
const lines = (d: string, b: Buffer | undefined) => (b ? b.toString('utf8').replaceAll(`${d}/`, '').split('\n').filter((x) => x !== '') : []);

// The bytes an uninterrupted run writes to each file when given only `stems` (cached per layout and set).
const references = new Map<string, Map<string, Buffer | undefined>>();
async function reference(l: Layout, stems: string[]): Promise<Map<string, Buffer | undefined>> {
  const key = `${l.output} ${l.rejects} ${stems.join(',')}`;
  let ref = references.get(key);
  if (!ref) {
    const d = setUp(l, stems);
    await runJob(jobIn(d, l));
    ref = new Map([...filesOf(l.output), ...filesOf(l.rejects)].map((f) => [f, read(d, f)]));
    ref.set('dir', Buffer.from(d));
    references.set(key, ref);
  }
  return ref;
}

const stemOf = (p: string) => path.basename(p, '.csv');

// What must hold after any failure or stop, given the run's record.
async function checkOutcome(d: string, l: Layout, r: RunRecord, what: string): Promise<void> {
  expect(listFiles(d).filter((f) => f.endsWith('.sb-tmp')), what).toEqual([]);
  expect(unreconciled(r.inputs), what).toBeUndefined();
  const ok = r.inputs.filter((i) => i.status === 'ok').map((i) => stemOf(i.path));
  const full = await reference(l, STEMS);
  // Results: an input's own result is the complete one when the record says ok, else the earlier one; a
  // combined result holds exactly the ok inputs' rows, or is the earlier one when no input is ok.
  if (perInput(l.output)) {
    for (const s of STEMS) {
      const f = l.output.replace('{input_stem}', s);
      const want = ok.includes(s) ? full.get(f) : Buffer.from(EARLIER);
      expect(read(d, f)?.equals(want as Buffer), `${what}: ${f}`).toBe(true);
    }
  } else {
    const want = ok.length > 0 ? (await reference(l, ok)).get(l.output) : Buffer.from(EARLIER);
    expect(read(d, l.output)?.equals(want as Buffer), `${what}: ${l.output} (ok: ${ok.join(',')})`).toBe(true);
  }
  // Rejects: never half-written (the earlier file, or lines an uninterrupted run writes), and an ok input's
  // rejects are on disk whenever its rows are.
  const refDir = String(full.get('dir'));
  for (const f of filesOf(l.rejects)) {
    const got = read(d, f);
    if (got?.toString() === EARLIER || got === undefined) continue;
    const all = new Set(lines(refDir, full.get(f)));
    for (const x of lines(d, got)) expect(all.has(x), `${what}: ${f} holds '${x}'`).toBe(true);
  }
  // A rejects file is removed only with its result replaced, and changed only by an input whose result was
  // committed or that failed by itself (its rejects say why); never by a stop.
  const stoppedBy = (i: InputRecord) => String(i.error).startsWith('interrupted by');
  if (perInput(l.rejects)) {
    for (const s of STEMS) {
      const f = l.rejects.replace('{input_stem}', s);
      const got = read(d, f)?.toString();
      const rec = r.inputs.find((i) => stemOf(i.path) === s);
      if (got === undefined) expect(rec?.status, `${what}: ${f} was removed`).toBe('ok');
      else if (got !== EARLIER) expect(rec && (rec.status === 'ok' || (rec.rows_rejected > 0 && !stoppedBy(rec))), `${what}: ${f} was replaced`).toBe(true);
    }
  } else {
    const got = read(d, l.rejects)?.toString();
    if (got === undefined) expect(ok.length, `${what}: ${l.rejects} was removed`).toBeGreaterThan(0);
    else if (got !== EARLIER) expect(ok.length > 0 || (r.status !== 'interrupted' && r.inputs.some((i) => i.rows_rejected > 0 && !stoppedBy(i))), `${what}: ${l.rejects} was replaced`).toBe(true);
  }
  // (A result per input with one shared rejects file: the rejects are committed after the last result, so if
  // that file cannot be written the run fails saying so, and the results stand without it.)
  const sharedFailed = perInput(l.output) && !perInput(l.rejects) && String(r.error).includes(path.join(d, l.rejects));
  for (const s of sharedFailed ? [] : ok) {
    const f = perInput(l.rejects) ? l.rejects.replace('{input_stem}', s) : l.rejects;
    const mine = lines(refDir, full.get(f)).filter((x) => x.startsWith(`in/${s}.csv,`));
    expect(mine.length, `${what}: ${s} has rejects`).toBeGreaterThan(0);
    const got = new Set(lines(d, read(d, f)));
    for (const x of mine) expect(got.has(x), `${what}: the rejects of ${s} in ${f}`).toBe(true);
  }
}

// Every step the local sink takes for each file of an uninterrupted run of the layout, in order.
async function stepsOf(l: Layout): Promise<{ name: FailpointName; file: string; hit: number }[]> {
  const d = setUp(l);
  const seen = new Map<string, number>();
  const steps: { name: FailpointName; file: string; hit: number }[] = [];
  const stop = traceFailpoints((name, target) => {
    const file = path.relative(d, target);
    if (file.startsWith('state')) return;
    const key = `${name} ${file}`;
    const hit = (seen.get(key) ?? 0) + 1;
    seen.set(key, hit);
    // Every step once; a combined result's second write too (a failure between two inputs' rows).
    if (hit === 1 || (hit === 2 && name === 'write' && file.startsWith('out/all'))) steps.push({ name, file, hit });
  });
  try {
    await runJob(jobIn(d, l));
  } finally {
    stop();
  }
  return steps;
}


// A run of `job` sent SIGTERM (as its stop signal) once its n-th input finished.
function runStoppedAfter(job: Parameters<typeof runJob>[0], n: number): Promise<RunRecord> {
  const stop = new AbortController();
  let finished = 0;
  return runJob(job, {
    signal: stop.signal,
    onEvent: (e) => {
      if (e.type === 'input_finished' && ++finished === n) stop.abort('SIGTERM');
    },
  });
}
describe('the output target when a step of writing fails', () => {
  for (const l of LAYOUTS) {
    it(`${l.name}: every step of every file`, async () => {
      const clean = await (async () => {
        const d = setUp(l);
        return runJob(jobIn(d, l));
      })();
      expect([clean.status, clean.inputs.map((i) => i.status)]).toEqual(['failed', ['ok', 'failed', 'ok']]);
      const steps = await stepsOf(l);
      expect(steps.length).toBeGreaterThan(6);
      for (const s of steps) {
        const what = `${s.name} #${s.hit} of ${s.file} fails`;
        const d = setUp(l);
        let fired = false;
        const disarm = armFailpoint({ name: s.name, part: path.join(d, s.file), hit: s.hit, action: 'fail' });
        const arm = traceFailpoints((name, target) => {
          if (name === s.name && target === path.join(d, s.file)) fired = true;
        });
        let r: RunRecord;
        try {
          r = await runJob(jobIn(d, l));
        } finally {
          disarm();
          arm();
        }
        expect(fired, what).toBe(true);
        expect([r.status, r.exit_code], what).toEqual(['failed', 1]);
        // (A per-input result of a failed input is dropped whether or not its rollback works.)
        if (!(s.name === 'rollback' && perInput(l.output))) expect(JSON.stringify(r), what).toContain('input/output error (failpoint)');
        await checkOutcome(d, l, r, what);
      }
    });
  }
});

describe('the output target when the run is stopped at a step of writing', () => {
  // A stop takes effect between chunks and between inputs: at the opening, commit and rollback of every file,
  // and in the middle of writing a result. (The Parquet result's own steps are those of the CSV one.)
  for (const l of LAYOUTS.filter((x) => !x.output.endsWith('.parquet'))) {
    it(`${l.name}: a stop at every step of every file`, async () => {
      const steps = (await stepsOf(l)).filter((s) => s.hit === 1 && s.name !== 'before-rename' && (s.name !== 'write' || s.file.startsWith('out/')));
      for (const s of steps) {
        const what = `a stop at ${s.name} of ${s.file}`;
        const d = setUp(l);
        const stop = new AbortController();
        const disarm = armFailpoint({ name: s.name, part: path.join(d, s.file), action: () => stop.abort('SIGTERM') });
        let r: RunRecord;
        try {
          r = await runJob(jobIn(d, l), { signal: stop.signal });
        } finally {
          disarm();
        }
        expect(stop.signal.aborted, what).toBe(true);
        if (r.status === 'interrupted') {
          expect([r.exit_code, r.error], what).toEqual([143, 'interrupted by SIGTERM: no partial results were kept']);
          // A combined result is never committed by a stopped run.
          if (!perInput(l.output)) expect(read(d, l.output)?.toString(), what).toBe(EARLIER);
        } else {
          // The stop came when every result was already committed: the run completed, and says so.
          expect([r.status, r.exit_code, r.inputs.map((i) => i.status)], what).toEqual(['failed', 1, ['ok', 'failed', 'ok']]);
          expect(r.warnings, what).toContain('SIGTERM came after the last input was scored: the run finished as it would have without it');
        }
        await checkOutcome(d, l, r, what);
      }
    });
  }
});

describe('a stop between inputs, or after the last', () => {
  const two = { 'a.csv': csv(6, [2]), 'c.csv': csv(6, [4]) };
  const inDir = (files: Record<string, string>) => {
    const d = tempDir('sb-stop-');
    mkdirSync(path.join(d, 'in'));
    for (const [n, t] of Object.entries(files)) writeFileSync(path.join(d, 'in', n), t);
    return d;
  };

  it('with one combined result, commits nothing: the result stays as an earlier run left it, the record says interrupted', async () => {
    const l = LAYOUTS[3];
    const d = inDir(two);
    mkdirSync(path.join(d, 'out'));
    writeFileSync(path.join(d, 'out/all.csv'), EARLIER);
    // Stopped once the first input is scored, before the second starts.
    const r = await runStoppedAfter(jobIn(d, l), 1);
    expect([r.status, r.exit_code, r.error]).toEqual(['interrupted', 143, 'interrupted by SIGTERM: no partial results were kept']);
    expect(readFileSync(path.join(d, 'out/all.csv'), 'utf8')).toBe(EARLIER);
    expect(existsSync(path.join(d, 'rej/all.csv'))).toBe(false);
    expect(listFiles(d).filter((f) => f.endsWith('.sb-tmp'))).toEqual([]);
  });

  it('after the last input was committed, changes nothing: the record says the run completed (ok), with a warning', async () => {
    const l = LAYOUTS[0];
    const d = inDir(two);
    const r = await runStoppedAfter(jobIn(d, l), 2);
    expect([r.status, r.exit_code, r.error]).toEqual(['ok', 0, null]);
    expect(r.warnings).toEqual(['SIGTERM came after the last input was scored: the run finished as it would have without it']);
    expect(r.inputs.map((i) => [i.status, i.output && path.relative(d, i.output)])).toEqual([
      ['ok', 'out/a.csv'],
      ['ok', 'out/c.csv'],
    ]);
    expect(readdirSync(path.join(d, 'out')).sort()).toEqual(['a.csv', 'c.csv']);
  });
});

describe("the run's totals", () => {
  it('rows_out counts the rows in committed results, not those of a failed input taken back out', async () => {
    const l = LAYOUTS[3];
    const d = tempDir('sb-totals-');
    mkdirSync(path.join(d, 'in'));
    writeFileSync(path.join(d, 'in/a.csv'), csv(6, [2]));
    // Two good rows, then rejects above max_rejected (3): it fails after its first rows were written.
    writeFileSync(path.join(d, 'in/b.csv'), csv(6, [2, 3, 4, 5]));
    const r = await runJob(jobIn(d, l));
    expect(r.inputs.map((i) => [i.status, i.rows_out])).toEqual([['ok', 5], ['failed', 2]]);
    const lines = readFileSync(path.join(d, 'out/all.csv'), 'utf8').split('\n').filter(Boolean).length - 1;
    expect([r.totals.rows_out, lines]).toEqual([5, 5]);
    expect(r.totals.rows_in).toBe(r.totals.rows_out + r.totals.rows_rejected + 2);
    expect(unreconciled(r.inputs, r.totals)).toBeUndefined();
  });
});

describe('rejects files a failed or stopped run leaves as they were', () => {
  // An input the job cannot read (no column c): it fails before any row is rejected.
  const NO_C = 'id,a,b\nr0,0.1,0.2\n';
  // A directory with these inputs, and an earlier run's result and rejects at every path the layout writes.
  const earlier = (l: Layout, inputs: Record<string, string>) => {
    const d = tempDir('sb-keep-');
    mkdirSync(path.join(d, 'in'));
    for (const [n, t] of Object.entries(inputs)) writeFileSync(path.join(d, 'in', n), t);
    const stems = Object.keys(inputs).map((n) => path.basename(n, '.csv'));
    for (const f of [l.output, l.rejects].flatMap((x) => (perInput(x) ? stems.map((s) => x.replace('{input_stem}', s)) : [x]))) {
      mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
      writeFileSync(path.join(d, f), EARLIER);
    }
    return d;
  };
  const text = (d: string, f: string) => read(d, f)?.toString();

  for (const l of LAYOUTS.slice(0, 4)) {
    it(`${l.name}: inputs that fail with nothing rejected remove no rejects file`, async () => {
      const d = earlier(l, { 'a.csv': NO_C, 'b.csv': NO_C });
      const r = await runJob(jobIn(d, l));
      expect([r.status, r.inputs.map((i) => [i.status, i.rows_rejected])]).toEqual(['failed', [['failed', 0], ['failed', 0]]]);
      expect(r.error).toContain("'c'");
      for (const f of [l.output, l.rejects].flatMap(filesOf).filter((f) => !f.includes('/c.'))) expect(text(d, f), f).toBe(EARLIER);
    });
  }

  it('--output to a FIFO nobody reads, ended by a signal or the timeout: the earlier shared rejects file stays', async () => {
    const l = LAYOUTS[3];
    for (const end of ['signal', 'timeout'] as const) {
      const d = earlier(l, { 'a.csv': csv(4, [1]) });
      const fifo = makeFifo(path.join(d, 'fifo'));
      const stop = new AbortController();
      const timer = end === 'signal' ? setTimeout(() => stop.abort('SIGTERM'), 300) : undefined;
      const r = await runJob(jobIn(d, l), { output: fifo, signal: stop.signal, ...(end === 'timeout' ? { timeoutMs: 300 } : {}) });
      clearTimeout(timer);
      expect([r.status, r.exit_code], r.error ?? '').toEqual(end === 'signal' ? ['interrupted', 143] : ['failed', 1]);
      expect([text(d, 'out/all.csv'), text(d, 'rej/all.csv')]).toEqual([EARLIER, EARLIER]);
      expect(listFiles(d).filter((f) => f.endsWith('.sb-tmp'))).toEqual([]);
    }
  });

  it('a result per input: an input whose result cannot be committed, with nothing rejected, keeps its earlier rejects file', async () => {
    const l = LAYOUTS[0];
    const d = earlier(l, { 'a.csv': csv(4, []) });
    const disarm = armFailpoint({ name: 'before-rename', part: path.join(d, 'out/a.csv'), action: 'fail' });
    let r: RunRecord;
    try {
      r = await runJob(jobIn(d, l));
    } finally {
      disarm();
    }
    expect([r.status, r.inputs[0].status, r.inputs[0].error]).toEqual(['failed', 'failed', expect.stringContaining('input/output error (failpoint)')]);
    expect([text(d, 'out/a.csv'), text(d, 'rej/a.csv')]).toEqual([EARLIER, EARLIER]);
  });

  it('one combined result, a rejects file per input: a stop between inputs leaves every rejects file as it was', async () => {
    const l = LAYOUTS[2];
    const d = earlier(l, { 'a.csv': csv(4, []), 'b.csv': csv(4, [1]), 'c.csv': csv(4, [2]) });
    const r = await runStoppedAfter(jobIn(d, l), 2);
    expect([r.status, r.exit_code, r.inputs.map((i) => i.status)]).toEqual(['interrupted', 143, ['failed', 'failed']]);
    // a had nothing rejected (its earlier rejects file would be removed with a committed result), b one row.
    expect(['out/all.csv', 'rej/a.csv', 'rej/b.csv', 'rej/c.csv'].map((f) => text(d, f))).toEqual([EARLIER, EARLIER, EARLIER, EARLIER]);
    expect(listFiles(d).filter((f) => f.endsWith('.sb-tmp'))).toEqual([]);
  });

  it('one combined result, a rejects file per input: committed with the result, removed only then', async () => {
    const l = LAYOUTS[2];
    const d = earlier(l, { 'a.csv': csv(4, []), 'b.csv': csv(4, [1]) });
    const r = await runJob(jobIn(d, l));
    expect([r.status, r.inputs.map((i) => [i.status, i.rows_rejected, i.rejects && path.relative(d, i.rejects)])]).toEqual([
      'ok',
      [
        ['ok', 0, null],
        ['ok', 1, 'rej/b.csv'],
      ],
    ]);
    expect(text(d, 'rej/a.csv')).toBeUndefined();
    expect(lines(d, read(d, 'rej/b.csv'))).toEqual(['_file,_line,_error,id,a,b,c', "in/b.csv,3,column 'a': 'oops' is not a number,r1,oops,0.14285714285714285,1"]);
    expect(text(d, 'out/all.csv')?.split('\n').length).toBe(1 + 7 + 1);
  });
});
