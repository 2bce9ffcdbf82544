// The npm package as a user gets it. `npm pack` runs on a copy of exactly what the container build copies
// (the entries .dockerignore lets through), the tarball is installed globally into a fresh prefix the way the
// README's tarball install and the Dockerfile do it, and the installed command runs outside the repository:
// --version, inspect, and the shipped example job. Packing a copy leaves this checkout's dist/ alone, which
// the other test files are running at the same time.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, csvRows, ROOT, tempDir } from '../support/cli.js';

const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

// npm as a user's shell runs it: none of the npm_* variables `npm test` hands its children (they would steer
// the inner npm: its prefix, its config). ONNXRUNTIME_NODE_INSTALL=skip is what the README tells users to set
// (npm runs a globally installed package's dependency scripts on every version).
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip', NO_COLOR: '1' };
}

// Run a command to completion; fail the test with its output if it does not exit 0.
function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, env: npmEnv(), encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// The build context of the container image: the entries .dockerignore re-includes after ignoring everything.
function buildContext(): string[] {
  return readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).trim());
}

interface Packed {
  tarball: string;
  files: string[];
}

// Copy the build context to a fresh directory (dependencies linked from this checkout) and `npm pack` there.
function pack(): Packed {
  const src = tempDir('sb-pack-src-');
  for (const entry of buildContext()) cpSync(path.join(ROOT, entry), path.join(src, entry), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'), 'dir');
  const out = tempDir('sb-pack-out-');
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', out], src)) as { filename: string; files: { path: string }[] }[];
  return { tarball: path.join(out, info.filename), files: info.files.map((f) => f.path).sort() };
}

describe('the npm package', () => {
  let packed: Packed;
  let prefix: string;
  let bin: string;

  beforeAll(() => {
    packed = pack();
    prefix = tempDir('sb-prefix-');
    // --prefer-offline: what the npm cache holds is used without asking the registry, so once one install has
    // filled the cache the test needs no network.
    run('npm', ['install', '-g', packed.tarball, '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund'], tempDir());
    bin = path.join(prefix, 'bin/serve-batch');
  }, 300_000);

  it('holds the build, the command, README and LICENSE, and nothing else', () => {
    expect(path.basename(packed.tarball)).toBe(`${PKG.name}-${PKG.version}.tgz`);
    const strays = packed.files.filter((f) => !['package.json', 'README.md', 'LICENSE', 'bin/serve-batch.js'].includes(f) && !/^dist\/src\/.+\.js$/.test(f));
    expect(strays).toEqual([]);
    // Every module the build emits for the sources, the worker threads' and the scheduler child's included.
    const built = (dir: string): string[] =>
      readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? built(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join('dist', dir, e.name.replace(/\.ts$/, '.js'))] : [],
      );
    expect(packed.files.filter((f) => f.startsWith('dist/'))).toEqual(built('src').sort());
  });

  it('installs onnxruntime-node without its download: the CPU build it ships, no CUDA or TensorRT files', () => {
    const napi = path.join(prefix, 'lib/node_modules/serve-batch/node_modules/onnxruntime-node/bin/napi-v6');
    expect(existsSync(path.join(napi, process.platform, process.arch, 'onnxruntime_binding.node'))).toBe(true);
    const files = readdirSync(napi, { recursive: true }).map(String);
    expect(files.filter((f) => /cuda|tensorrt/i.test(f))).toEqual([]);
  });

  it('--version names serve-batch, onnxruntime-node and Node.js', () => {
    const ort = JSON.parse(readFileSync(path.join(prefix, 'lib/node_modules/serve-batch/node_modules/onnxruntime-node/package.json'), 'utf8')) as { version: string };
    expect(run(bin, ['--version'], tempDir()).trim()).toBe(`serve-batch ${PKG.version} (onnxruntime-node ${ort.version}, Node.js ${process.version})`);
    expect(cli(['--version']).stdout.trim()).toMatch(new RegExp(`^serve-batch ${PKG.version.replace(/\./g, '\\.')} \\(onnxruntime-node \\d+\\.\\d+\\.\\d+, Node\\.js v`));
  });

  it('inspects a model and scores the shipped example job outside the repository, as the checkout does', () => {
    const work = tempDir('sb-user-');
    for (const f of ['jobs/example.yaml', 'fixtures/models/linear_binary.onnx', 'fixtures/data/customers.csv']) {
      mkdirSync(path.dirname(path.join(work, f)), { recursive: true });
      cpSync(path.join(ROOT, f), path.join(work, f));
    }
    const info = JSON.parse(run(bin, ['inspect', 'fixtures/models/linear_binary.onnx', '--json'], work)) as { inputs: { name: string }[] };
    expect(info.inputs.map((i) => i.name)).toEqual(['input']);

    const record = JSON.parse(run(bin, ['run', 'jobs/example.yaml', '--json', '--log-format', 'text'], work)) as { status: string; versions: { serve_batch: string } };
    expect(record.status).toBe('ok');
    expect(record.versions.serve_batch).toBe(PKG.version);
    const result = readFileSync(path.join(work, 'out/example/customers.scored.csv'), 'utf8');
    expect(csvRows(result)).toHaveLength(21);

    // The same job through this checkout's build: the installed package writes the same bytes.
    const here = path.join(tempDir(), 'customers.scored.csv');
    const r = cli(['run', path.join(work, 'jobs/example.yaml'), '--output', here, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(result).toBe(readFileSync(here, 'utf8'));
  });
});

describe('npm in a clone', () => {
  it("runs npx serve-batch; the clone's .npmrc skips onnxruntime-node's download and is the only project config npm does not know", () => {
    expect(readFileSync(path.join(ROOT, '.npmrc'), 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m);
    const r = spawnSync('npx', ['serve-batch', '--version'], { cwd: ROOT, env: npmEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^serve-batch /);
    const unknown = [...r.stderr.matchAll(/Unknown project config "([^"]+)"/g)].map((m) => m[1]);
    expect(unknown.filter((k) => k !== 'onnxruntime-node-install')).toEqual([]);
  });

  // npm 11.19 skips the dependency install scripts package.json's allowScripts denies, and after every install
  // lists the ones it has no decision for (it runs those); older npm versions read no allowScripts (the README
  // says what they need).
  const npmVersion = spawnSync('npm', ['--version'], { env: npmEnv(), encoding: 'utf8' }).stdout.trim().split('.').map(Number);
  const hasAllowScripts = npmVersion[0] > 11 || (npmVersion[0] === 11 && npmVersion[1] >= 19);
  it.skipIf(!hasAllowScripts)("leaves no dependency's install script undecided, and denies onnxruntime-node's download", () => {
    const pending = JSON.parse(run('npm', ['install-scripts', 'ls', '--json'], ROOT)) as { allowScripts: unknown[] };
    expect(pending.allowScripts).toEqual([]);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
  });
});
