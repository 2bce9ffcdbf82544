// A real S3-protocol server for tests: s3rver in its own process on 127.0.0.1 (a free port), one per test file,
// stopped by its pid. A server left running by a test run that was killed (SIGKILL leaves no chance to stop
// it) is found by the next start through its pid file and stopped there, only when its pid still runs our
// server script and the process that started it is gone.
//
// s3rver's quirks met here and what the code does about them (see s3-server-main.cjs for the first):
// - ListObjectsV2 continuation tokens use single DES: shimmed in the server process.
// - A suffix range (`bytes=-8`) returns the first 8 bytes, and `bytes=0-0` returns the whole object: the
//   client never sends a suffix range and reads only the bytes it asked for.
// - AbortMultipartUpload answers 405 MethodNotAllowed; ListMultipartUploads is not implemented.
// - The ETag of a multipart object is the MD5 of the whole object (real S3: MD5 of the part MD5s, `-N`).
// - Only the access key id is checked (it must be S3RVER); signatures are not verified.
// - Listings come in file-system order, which is key order only when no key is a prefix of another's folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3-server-main.cjs');
/** Where every server started by a test run leaves its pid file (fixed, so the next run finds it). */
export const PID_DIR = path.join(tmpdir(), 'serve-batch-s3rver');

/** The only credentials s3rver accepts (its access key id is checked, the secret is not). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3TestServer {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** A client for setting up and inspecting objects (path-style, checksums only when required). */
  readonly admin: S3Client;
  /** Create a bucket. */
  bucket(name: string): Promise<void>;
  /** Put an object. */
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  /** The environment a run against this server needs (credentials, endpoint, region). */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

interface PidFile {
  pid: number;
  start?: string;
  owner: number;
  ownerStart?: string;
  directory: string;
}

const running = new Map<number, ChildProcess>();

// Start a server with an empty data directory.
export async function startS3Server(): Promise<S3TestServer> {
  removeLeftServers();
  stopAtExit();
  const directory = mkdtempSync(path.join(tmpdir(), 'sb-s3rver-'));
  const child = spawn(process.execPath, [MAIN, directory, PID_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.set(child.pid!, child);
  let port: number;
  try {
    port = await listeningPort(child);
  } catch (err) {
    child.kill('SIGKILL');
    running.delete(child.pid!);
    rmSync(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  // The SDK's warning about Node 20 support in its future releases is switched off while the client is made.
  const restore = setEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  const admin = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  restore();
  return {
    endpoint,
    port,
    pid: child.pid!,
    admin,
    bucket: async (name) => {
      await admin.send(new CreateBucketCommand({ Bucket: name }));
    },
    put: async (bucket, key, body) => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
    },
    env: () => ({
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      // Never ask the EC2 instance metadata address for credentials: tests reach only 127.0.0.1.
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    stop: async () => {
      admin.destroy();
      await stopChild(child);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

// The port the server prints once it listens (it fails the start if it exits first or takes over 30 s).
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 30 s: ${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${signal ?? code}) before it listened: ${err}`));
    });
  });
}

// SIGTERM to the server's pid and wait for it to end (SIGKILL after 10 s).
async function stopChild(child: ChildProcess): Promise<void> {
  running.delete(child.pid!);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await ended;
  clearTimeout(timer);
}

// Servers still running when this process exits (a test file that failed before its afterAll) are killed then.
function stopAtExit(): void {
  const key = Symbol.for('serve-batch.s3-server.exit-hook');
  const g = globalThis as Record<symbol, unknown>;
  if (g[key]) return;
  g[key] = true;
  process.on('exit', () => {
    for (const pid of running.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

// Field 22 of /proc/<pid>/stat (the start time), undefined when no such process runs.
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

// Whether `pid` is the server a pid file describes: same start time, and its command line runs our script.
function isOurServer(f: PidFile): boolean {
  if (startTime(f.pid) !== f.start) return false;
  try {
    const argv = readFileSync(`/proc/${f.pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(MAIN) && argv.includes(f.directory);
  } catch {
    return false;
  }
}

// Stop the servers whose starting test run is gone (killed), and forget pid files of servers that ended.
// Servers of test runs still alive (other workers, other runs) are left alone. What it stopped: their pids.
export function removeLeftServers(): number[] {
  const stopped: number[] = [];
  let names: string[];
  try {
    names = readdirSync(PID_DIR);
  } catch {
    return stopped;
  }
  for (const name of names) {
    const file = path.join(PID_DIR, name);
    let f: PidFile;
    try {
      f = JSON.parse(readFileSync(file, 'utf8')) as PidFile;
    } catch {
      continue; // being written by a server starting right now
    }
    const ours = isOurServer(f);
    const ownerAlive = startTime(f.owner) !== undefined && startTime(f.owner) === f.ownerStart;
    if (ours && ownerAlive) continue;
    if (ours) {
      try {
        process.kill(f.pid, 'SIGKILL');
        stopped.push(f.pid);
      } catch {
        // ended in between
      }
    }
    rmSync(file, { force: true });
    if (path.basename(f.directory).startsWith('sb-s3rver-')) rmSync(f.directory, { recursive: true, force: true });
  }
  return stopped;
}

// Set environment variables (undefined unsets one) until the returned function puts them back.
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

// Put objects `count` at a time (s3rver answers each PUT in a few ms; 1,000 at once would queue for sockets).
export async function putMany(server: S3TestServer, bucket: string, objects: [string, string | Uint8Array][], count = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const [key, body] = objects[next++];
      await server.put(bucket, key, body);
    }
  };
  await Promise.all(Array.from({ length: count }, worker));
}

// A TCP proxy to the server on 127.0.0.1 that counts its connections, records the requests it carries and, with `cutAfter`, cuts the connection
// carrying its first `cutAfter` response bytes.
export async function s3Proxy(port: number, cutAfter = Infinity): Promise<{ port: number; cuts: () => number; connections: () => number; requests: () => string; close: () => Promise<void> }> {
  let cuts = 0;
  let connections = 0;
  let first = true;
  let requests = '';
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((client) => {
    connections++;
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    const cutThis = first;
    first = false;
    let sent = 0;
    client.on('data', (d: Buffer) => {
      requests += d.toString('latin1');
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      sent += d.length;
      if (cutThis && sent > cutAfter) {
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    cuts: () => cuts,
    connections: () => connections,
    requests: () => requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => srv.close(resolve));
    },
  };
}
