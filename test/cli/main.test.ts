// The command line in process through main(): one table of exit codes for every command, help that lists the
// global options, usage errors that point at the command's own help, --quiet, and validate naming its job file.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { program } from '../../src/cli/main.js';
import { SbError, type ErrorCode } from '../../src/errors.js';
import { BIN, expectOneLineError, model, runMain, tempDir, writeFiles } from '../support/cli.js';

// README "Exit codes", error by error.
const TABLE: Record<ErrorCode, number> = {
  USAGE: 2,
  JOB_INVALID: 2,
  PATH_NOT_FOUND: 2,
  STORAGE_ACCESS: 2,
  MODEL_INVALID: 2,
  MODEL_MISMATCH: 2,
  OUTPUT_INVALID: 2,
  INPUT_FAILED: 1,
  STORAGE_UNAVAILABLE: 1,
  REJECT_LIMIT: 1,
  MODEL_RUNTIME: 1,
  WRITE_FAILED: 1,
  RECONCILE: 1,
  SHARDS: 1,
  LOCKED: 3,
  ALERT: 4,
  DB_INVALID: 2,
  DB_UNREACHABLE: 1,
  INTERRUPTED: 130,
  OUTPUT_CLOSED: 141,
};

// The real program with one more command that throws `err`.
const throwing = (err: unknown): typeof program => (exit) => {
  const p = program(exit);
  p.command('throw').action(() => {
    throw err;
  });
  return p;
};

const job = (body = '') => `model: ${model('regressor')}\ninput: in.csv\nfeatures: { columns: [x1, x2] }\noutput: out/result.csv\nstate_dir: state\n${body}`;

describe('exit codes', () => {
  it.each(Object.entries(TABLE))('an SbError %s that reaches main() exits %i, in one line', async (code, exit) => {
    const r = await runMain(['throw', '--log-format', 'text'], { build: throwing(new SbError(code as ErrorCode, 'what went wrong', { file: 'in.csv', line: 3 })) });
    expect(r.status).toBe(exit);
    expect(expectOneLineError(r.stderr)).toEqual(['error: in.csv:3: what went wrong']);
  });

  it('a job file that does not load: every problem on its own line, exit 2', async () => {
    const problems = ['job.yaml:1:1: one (at a)', 'job.yaml:2:1: two (at b)'];
    const r = await runMain(['throw', '--log-format', 'text'], { build: throwing(new SbError('JOB_INVALID', 'job file job.yaml is invalid (2 problems)', { problems })) });
    expect(r.status).toBe(2);
    expect(expectOneLineError(r.stderr)).toEqual(problems.map((p) => `error: ${p}`));
  });

  it('anything else is an internal error: exit 1, one line, the stack only with --debug', async () => {
    const quiet = await runMain(['throw', '--log-format', 'text'], { build: throwing(new TypeError('x is undefined')) });
    expect(quiet.status).toBe(1);
    expect(expectOneLineError(quiet.stderr)).toEqual(['error: internal error: x is undefined (please report this; --debug shows the stack)']);
    const debug = await runMain(['throw', '--log-format', 'text', '--debug'], { build: throwing(new TypeError('x is undefined')) });
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('init: a sample that cannot be read is a usage error (exit 2), as for every other init argument', async () => {
    const d = tempDir();
    writeFiles(d, { 'empty.jsonl': '[1, 2]\n' });
    const r = await runMain(['init', '--model', model('linear_binary'), '--input', path.join(d, 'empty.jsonl'), '--log-format', 'text']);
    expect(r.status).toBe(2);
    expect(expectOneLineError(r.stderr)).toEqual([expect.stringMatching(/^error: .*empty\.jsonl: the sample has no JSON object with keys in its first lines$/)]);
  });
});

describe('help and usage errors', () => {
  it.each(['run', 'merge', 'validate', 'inspect', 'init', 'schedule', 'next'])('%s --help lists the global options', async (command) => {
    const r = await runMain([command, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Usage: serve-batch ${command}`);
    expect(r.stdout).toMatch(/Global Options:[\s\S]*--log-format <format>[\s\S]*--debug/);
  });

  it("a usage error points at the command's own help", async () => {
    const r = await runMain(['run', 'job.yaml', '--ouput', 'x.csv']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("error: unknown option '--ouput'\n(Did you mean --output?)\n(run serve-batch run --help for usage)\n");
    const top = await runMain(['rnu']);
    expect(top.status).toBe(2);
    expect(top.stderr).toContain('(run serve-batch --help for usage)');
  });

  it("a mistake in a global option points at the help of the command it was given to", async () => {
    for (const args of [['run', 'job.yaml', '--log-format', 'yaml'], ['--log-format', 'yaml', 'validate', 'job.yaml']]) {
      const r = await runMain(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`error: option '--log-format <format>' argument 'yaml' is invalid. Allowed choices are text, json.\n(run serve-batch ${args.includes('run') ? 'run' : 'validate'} --help for usage)\n`);
    }
  });

  it('no arguments: the usage on stderr and exit 2, as for any other mistake; `help` asks for it (exit 0)', async () => {
    const r = await runMain([]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: serve-batch [options] [command]');
    const help = await runMain(['help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: serve-batch [options] [command]');
  });

  it.each([
    ['inspect', ['inspect', model('linear_binary')]],
    ['init', ['init', '--model', model('linear_binary'), '--input', 'sample.csv']],
  ])('%s to a reader that closed standard output: exit 141 like run, one line, no stack', (_name, args) => {
    const d = tempDir();
    writeFiles(d, { 'sample.csv': 'a,b,c\n1,2,3\n' });
    const r = spawnSync('bash', ['-c', `"$NODE" "$BIN" ${args.map((a) => `'${a}'`).join(' ')} --log-format text | (exec 0<&-; sleep 1); echo "status \${PIPESTATUS[0]}"`], {
      cwd: d,
      env: { ...process.env, NO_COLOR: '1', NODE: process.execPath, BIN },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout).toBe('status 141\n');
    expect(expectOneLineError(r.stderr)).toEqual([expect.stringMatching(/^error: the reader of standard output closed it before the (report|job) was written$/)]);
  });
});

describe('--quiet', () => {
  it('keeps warnings and errors, drops the rest', async () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': job(), 'in.csv': 'x1,x2\n1,2\n' });
    expect((await runMain(['run', '--help'])).stdout).toMatch(/-q, --quiet +print only warnings and errors\n/);
    const r = await runMain(['run', path.join(d, 'job.yaml'), '--quiet', '--log-format', 'text'], { env: { JOB_COMPLETION_INDEX: '0' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('warning: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job?) but no number of workers is (--shards N or SERVE_BATCH_SHARDS): this worker scores every input\n');
  });
});

describe('validate with several job files', () => {
  it('names the job file on every problem and warning line', async () => {
    const d = tempDir();
    writeFiles(d, {
      'a.yaml': job(),
      'b.yaml': job().replace('in.csv', 'bad.csv'),
      'c.yaml': job().replace('in.csv', 'gap.csv'),
      'in.csv': 'x1,x2\n1,2\n',
      'bad.csv': 'x1,x3\n1,2\n',
      'gap.csv': 'x1,x2\n1,two\n',
    });
    const r = await runMain(['validate', 'a.yaml', 'b.yaml', 'c.yaml', '--log-format', 'text'], { cwd: d });
    expect(r.status).toBe(2);
    expect(expectOneLineError(r.stderr)).toEqual([
      "error: b.yaml: bad.csv:1: column 'x2' is not in the header, did you mean 'x1'? (columns: x1, x3)",
      'warning: c.yaml: 1 of the first 1 row of gap.csv would be rejected',
    ]);
    expect(r.stdout.split('\n').filter(Boolean).map((l) => l.split(' (')[0])).toEqual(['ok: a.yaml', 'ok: c.yaml']);
  });
});
