// Values from the environment are never shown: whatever job field holds `${S}` — a path, a column, an output
// name — every message, log line, printed record, run record and metrics file names `${S}` instead of its
// value, through main() in this process (text and JSON logs, --json records, validate).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { model, runMain, tempDir, writeFiles } from '../support/cli.js';

const SECRET = 's3cr3tVALUE';
const env = { S: SECRET };

// Every file below `dir` (records, results, metrics), with its text.
function texts(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ file: p, text: readFileSync(p, 'utf8') });
    }
  };
  walk(dir);
  return out;
}

// A job over in.csv (x1, x2, id) with `fields` (YAML lines) replacing the defaults of the same key.
function job(fields: Record<string, string>): string {
  const d = tempDir();
  const base: Record<string, string> = {
    model: model('regressor'),
    input: 'in.csv',
    features: '{ columns: [x1, x2] }',
    output: 'out/r.csv',
    state_dir: 'state',
    metrics_file: 'metrics.prom',
    errors: "{ max_rejected: 5, rejects: 'out/rej.csv' }",
  };
  const yaml = Object.entries({ ...base, ...fields }).map(([k, v]) => `${k}: ${v}`).join('\n');
  writeFiles(d, { 'in.csv': 'id,x1,x2\na,1,2\nb,3,4\nc,5,five\n', 'job.yaml': `${yaml}\n` });
  return d;
}

// The job run and validated every way a user would: the secret shows nowhere, and the message names ${S}.
async function neverShown(d: string, o: { ok: boolean; named?: boolean }): Promise<void> {
  const outputs: string[] = [];
  for (const args of [
    ['run', 'job.yaml', '--log-format', 'text'],
    ['run', 'job.yaml', '--log-format', 'json', '--json'],
    ['validate', 'job.yaml', '--log-format', 'text'],
    ['validate', 'job.yaml', '--log-format', 'json', '--json'],
  ]) {
    const r = await runMain(args, { cwd: d, env });
    expect(r.status === 0, `${args.join(' ')}: ${r.stderr}`).toBe(o.ok);
    outputs.push(r.stderr, r.stdout);
  }
  for (const text of outputs) expect(text).not.toContain(SECRET);
  if (o.named !== false) expect(outputs.join('\n')).toContain('${S}');
  for (const f of texts(d).filter((x) => !x.file.endsWith('.csv') && !x.file.endsWith('.yaml'))) expect(f.text, f.file).not.toContain(SECRET);
  expect(texts(d).some((f) => f.file.includes('/runs/') && f.file.endsWith('.json'))).toBe(true);
}

describe('values from the environment are never shown', () => {
  it('model: a missing model file', async () => {
    await neverShown(job({ model: '/nonexist/${S}/m.onnx' }), { ok: false });
  });

  it('input.path: a missing input', async () => {
    await neverShown(job({ input: 'in-${S}.csv' }), { ok: false });
  });

  it('output.path and errors.rejects: a run that succeeds names its files', async () => {
    await neverShown(job({ output: 'out-${S}/r.csv', errors: "{ max_rejected: 5, rejects: 'rej-${S}/rej.csv' }" }), { ok: true });
  });

  it('state_dir: where the records go', async () => {
    const d = job({ state_dir: 'state-${S}' });
    await neverShown(d, { ok: true, named: false });
  });

  it('metrics_file: a metrics file that cannot be written is a warning of the record', async () => {
    const d = job({ metrics_file: '/proc/${S}/metrics.prom' });
    await neverShown(d, { ok: true });
    const record = texts(path.join(d, 'state')).find((f) => f.file.endsWith('.json'));
    expect(record?.text).toContain('${S}');
  });

  it('passthrough, features.columns and predictions[].output: names the model or the data lacks', async () => {
    await neverShown(job({ passthrough: "['${S}']" }), { ok: false });
    await neverShown(job({ features: "{ columns: [x1, '${S}'] }" }), { ok: false });
    await neverShown(job({ predictions: "[{ output: '${S}' }]" }), { ok: false });
  });

  it('a sharded run and its merge name the files through ${S} and still find them', async () => {
    const d = job({ output: "'out-${S}/part-{shard}.csv'", errors: "{ max_rejected: 5, rejects: 'out-${S}/rej-{shard}.csv' }" });
    const said: string[] = [];
    for (const args of [['run', 'job.yaml', '--shard', '0/2', '--json'], ['run', 'job.yaml', '--shard', '1/2', '--json'], ['merge', 'job.yaml', '--shards', '2', '--json']]) {
      const r = await runMain([...args, '--log-format', 'json'], { cwd: d, env });
      expect(r.status, r.stderr).toBe(0);
      said.push(r.stdout, r.stderr);
    }
    for (const text of said) expect(text).not.toContain(SECRET);
    expect(readFileSync(path.join(d, `out-${SECRET}/part-all.csv`), 'utf8').split('\n')).toHaveLength(4);
    for (const f of texts(path.join(d, 'state'))) expect(f.text, f.file).not.toContain(SECRET);
  });
});
