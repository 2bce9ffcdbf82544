// Loading a model: bytes → ModelInfo → (ZipMap stripped) → one ONNX Runtime session, reused for every chunk
// and input of a job.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { SbError } from '../errors.js';
import type { Optimization } from '../job/config.js';
import { readModelInfo, type ModelInfo, type TypeInfo, type ValueInfo } from './model-info.js';
import { stripZipMaps } from './zipmap.js';

export interface SessionOptions {
  threads?: number;
  interThreads?: number;
  optimization?: Optimization;
}

export interface LoadedModel {
  path: string;
  sha256: string;
  bytes: number;
  /** As declared in the file (ZipMap outputs still non-tensor), for `inspect`. */
  declared: ModelInfo;
  /** What the session exposes: inputs, and outputs with ZipMaps turned into float tensors. */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  session: ort.InferenceSession;
  /** The threads asked for (model.threads); undefined: ONNX Runtime's default, one per core. */
  threads?: number;
  /** Another session on the same model with `threads` intra-op threads (see model/threads.ts). */
  withThreads(threads: number): Promise<ort.InferenceSession>;
}

// ONNX Runtime 1.29+ on Linux and macOS has usage telemetry on by default: when it creates its environment
// (the first session) it writes a device id and an event database under ~/.cache/Microsoft/DeveloperTools/
// .onnxruntime/, an empty $TMPDIR/mat-debug-<pid>.log and $TMPDIR/.ses, and queues events (model file and
// graph names, producer, hashes) for upload. A batch job must not litter or report its models:
// ORT_DISABLE_TELEMETRY=1 turns all of it off (checked with strace on 1.30: no file is created). It is read
// from the process environment, so it is set here, on the main thread (a worker thread's process.env is a
// copy native code never sees), before any session exists; a value the user set (0) is kept.
function disableOrtTelemetry(): void {
  if (!process.env.ORT_DISABLE_TELEMETRY) process.env.ORT_DISABLE_TELEMETRY = '1';
}
disableOrtTelemetry();

// Severity 4 (fatal): ONNX Runtime otherwise prints its own `[E:onnxruntime:...]` lines on stderr; its
// errors reach us as exceptions and are reported in our own words.
const QUIET = 4;

// Read a model file. Errors are SbErrors naming the file.
export async function readModelFile(file: string): Promise<{ bytes: Uint8Array; sha256: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SbError('PATH_NOT_FOUND', `model file not found: ${file}`, { yamlPath: 'model' });
    throw new SbError('MODEL_INVALID', `cannot read model ${file}: ${(err as Error).message}`, { yamlPath: 'model' });
  }
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

// The model's declared structure, or MODEL_INVALID.
export function parseModel(file: string, bytes: Uint8Array): ModelInfo {
  try {
    return readModelInfo(bytes);
  } catch (err) {
    throw new SbError('MODEL_INVALID', `${file} is not a valid ONNX model (${(err as Error).message}); re-export it`, { yamlPath: 'model' });
  }
}

// Load a model and create its session.
export async function loadModel(file: string, options: SessionOptions = {}): Promise<LoadedModel> {
  const { bytes, sha256 } = await readModelFile(file);
  const declared = parseModel(file, bytes);
  const runnable = stripZipMaps(bytes, declared.zipmaps);
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    logSeverityLevel: QUIET,
    graphOptimizationLevel: options.optimization ?? 'all',
    executionMode: 'sequential',
    // The memory pattern pre-plans every intermediate buffer of a call at once; without it an MLP's run of
    // 8192 rows peaks ~17 MB lower at the same speed (the bench's mlp).
    enableMemPattern: false,
    // Idle ONNX Runtime threads spin by default, taking the core the reader thread parses on; batch calls
    // are big enough that waking a thread costs nothing measurable (README "Performance").
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  // ONNX Runtime rejects keys set to undefined, and silently ignores unknown ones: set only what is given.
  if (options.threads !== undefined) sessionOptions.intraOpNumThreads = options.threads;
  if (options.interThreads !== undefined) sessionOptions.interOpNumThreads = options.interThreads;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(runnable, sessionOptions);
  } catch (err) {
    throw new SbError('MODEL_INVALID', `${file} cannot be loaded by ONNX Runtime: ${cleanOrtMessage(err)}`, { yamlPath: 'model' });
  }
  return {
    path: file,
    sha256,
    bytes: bytes.length,
    declared,
    inputs: declared.inputs,
    outputs: declared.outputs.map((o) => (declared.zipmaps.some((z) => z.output === o.name) ? zipMapAsTensor(o, declared) : o)),
    session,
    threads: options.threads,
    withThreads: (threads) => ort.InferenceSession.create(runnable, { ...sessionOptions, intraOpNumThreads: threads }),
  };
}

function zipMapAsTensor(o: ValueInfo, info: ModelInfo): ValueInfo {
  const z = info.zipmaps.find((x) => x.output === o.name);
  const type: TypeInfo = { kind: 'tensor', elemType: 'float32', dims: ['N', z && z.labels.length > 0 ? z.labels.length : ''] };
  return { name: o.name, type };
}

// ONNX Runtime messages carry C++ file names and template signatures; keep the sentence a user can act on.
export function cleanOrtMessage(err: unknown): string {
  let msg = err instanceof Error ? err.message : String(err);
  const status = msg.indexOf('Status Message: ');
  if (status !== -1) msg = msg.slice(status + 'Status Message: '.length);
  const sig = msg.lastIndexOf('] ');
  if (sig !== -1 && /^\/|^[A-Za-z]:\\/.test(msg)) msg = msg.slice(sig + 2);
  return msg.replace(/\s+/g, ' ').trim();
}

export { ORT_VERSION } from './ort-version.js';
