// Profiling cost per value (CPU time): the shapes the pipeline has (a column of a row-major float32 feed, a Float32Array
// or Float64Array column, strings), on seeded data, best of several rounds after a warm-up.
//
//   npm run build && node dist/bench/monitor.js
import { mergeProfiles, profileDrift, profileToJson, Profiler } from '../src/monitor/index.js';
import { normal, uniform } from './random.js';

const ROWS = 1_000_000;
const WIDTH = 30;
const ROUNDS = 5;
const CHUNK = 65_536;
let sink = 0;

interface Case {
  name: string;
  values: number;
  run: () => void;
}

// CPU nanoseconds per value of the fastest round (CPU time, as the machine may be shared).
function time(c: Case): number {
  c.run();
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.cpuUsage();
    c.run();
    const t = process.cpuUsage(t0);
    best = Math.min(best, (t.user + t.system) * 1000);
  }
  return best / c.values;
}

function main(): void {
  const gauss = normal(17);
  const pick = uniform(18);
  const feed = new Float32Array(ROWS * WIDTH);
  for (let i = 0; i < feed.length; i++) feed[i] = gauss() * 3 + 1;
  const column32 = new Float32Array(ROWS);
  const column64 = new Float64Array(ROWS);
  for (let i = 0; i < ROWS; i++) column64[i] = column32[i] = Math.round(gauss() * 1e4) / 100;
  for (let i = 0; i < ROWS; i += 97) column64[i] = column32[i] = NaN;
  const categories = Array.from({ length: 40 }, (_, k) => `category-${k}`);
  // Fresh strings, as a reader makes them (not the interned literals).
  const texts = Array.from({ length: ROWS }, () => `${categories[Math.floor(pick() ** 2 * 40)]} `.trimEnd());
  const ids = Array.from({ length: ROWS }, (_, i) => `id-${(i * 7919) % ROWS}`);
  const specs = [...Array.from({ length: WIDTH }, (_, k) => ({ name: `f${k}`, kind: 'number' as const })), { name: 'c', kind: 'text' as const }];

  const names = specs.slice(0, WIDTH).map((s) => s.name);
  const chunked = (n: number, f: (from: number, take: number) => void) => {
    for (let from = 0; from < n; from += CHUNK) f(from, Math.min(CHUNK, n - from));
  };
  const source = Array.from({ length: WIDTH }, (_, k) => Float64Array.from({ length: ROWS }, (_, r) => feed[r * WIDTH + k]));
  const cases: Case[] = [
    {
      name: 'baseline: a plain loop summing a Float32Array (how fast this machine is right now)',
      values: ROWS,
      run: () => {
        let s = 0;
        for (let i = 0; i < column32.length; i++) s += column32[i];
        sink += s;
      },
    },
    {
      name: `float32 feed, ${WIDTH} columns of a row-major [${ROWS}, ${WIDTH}] tensor`,
      values: ROWS * WIDTH,
      run: () => {
        const p = new Profiler(specs.slice(0, WIDTH));
        chunked(ROWS, (from, take) => p.tensor(names, feed.subarray(from * WIDTH, (from + take) * WIDTH), take));
        p.finish();
      },
    },
    {
      name: `float64 source columns, ${WIDTH} Float64Arrays of ${ROWS} values`,
      values: ROWS * WIDTH,
      run: () => {
        const p = new Profiler(specs.slice(0, WIDTH));
        chunked(ROWS, (from, take) => {
          for (let k = 0; k < WIDTH; k++) p.number(`f${k}`).add(source[k].subarray(from, from + take));
        });
        p.finish();
      },
    },
    { name: 'Float32Array column', values: ROWS, run: () => numberColumn(column32, chunked) },
    { name: 'Float64Array column', values: ROWS, run: () => numberColumn(column64, chunked) },
    { name: 'text column, 40 values', values: ROWS, run: () => textColumn(texts, chunked) },
    { name: 'text column, all distinct (high-cardinality)', values: ROWS, run: () => textColumn(ids, chunked) },
  ];
  for (const c of cases) {
    const ns = time(c);
    const whole = c.values === ROWS * WIDTH ? ` (${((ns * c.values) / 1e6).toFixed(0)} ms for the ${ROWS / 1e6}M × ${WIDTH} bench input)` : '';
    console.log(`${ns.toFixed(2).padStart(7)} ns/value  ${c.name}${whole}`);
  }

  // What the finished profile costs: finish, JSON, merge, drift.
  const p = new Profiler(specs);
  chunked(ROWS, (from, take) => {
    p.tensor(names, feed.subarray(from * WIDTH, (from + take) * WIDTH), take);
    p.text('c').add(texts.slice(from, from + take));
  });
  const t0 = performance.now();
  const profile = p.finish();
  const t1 = performance.now();
  const json = JSON.stringify(profileToJson(profile, profile));
  const t2 = performance.now();
  mergeProfiles(profile, profile);
  profileDrift(profile, profile);
  const t3 = performance.now();
  if (sink === 42) console.log('');
  console.log(`finish ${(t1 - t0).toFixed(1)} ms, JSON ${(t2 - t1).toFixed(1)} ms (${(json.length / 1024).toFixed(0)} KiB for ${WIDTH} float columns and 1 text column), merge + drift ${(t3 - t2).toFixed(1)} ms`);
}

function numberColumn(values: Float32Array | Float64Array, chunked: (n: number, f: (from: number, take: number) => void) => void): void {
  const p = new Profiler([{ name: 'x', kind: 'number' }]);
  const col = p.number('x');
  chunked(values.length, (from, take) => col.add(values.subarray(from, from + take)));
  p.finish();
}

function textColumn(values: string[], chunked: (n: number, f: (from: number, take: number) => void) => void): void {
  const p = new Profiler([{ name: 'x', kind: 'text' }]);
  const col = p.text('x');
  chunked(values.length, (from, take) => col.add(values.slice(from, from + take)));
  p.finish();
}

main();
