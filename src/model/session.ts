// Loading a model: bytes → ModelInfo → (ZipMap stripped) → one ONNX Runtime session in the model thread,
// reused for every chunk and input of a job.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { SbError } from '../errors.js';
import type { Optimization } from '../job/config.js';
import { readModelInfo, type ModelInfo, type TypeInfo, type ValueInfo } from './model-info.js';
import { readExternalData, readModelBytes } from './model-file.js';
import { ModelThread, type ModelBounds } from './model-thread.js';
import { stripZipMaps } from './zipmap.js';

export interface SessionOptions {
  threads?: number;
  interThreads?: number;
  optimization?: Optimization;
  /** How long to wait for the model's answers (see model-thread.ts). */
  bounds?: ModelBounds;
}

export interface LoadedModel {
  path: string;
  /** The model file's sha256, and its data files' after it when it has some. */
  sha256: string;
  /** The files it keeps tensors in (external data), by absolute path: a run must not write over them. */
  dataFiles: string[];
  bytes: number;
  /** As declared in the file (ZipMap outputs still non-tensor), for `inspect`. */
  declared: ModelInfo;
  /** What the session exposes: inputs, and outputs with ZipMaps turned into float tensors. */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** The thread that holds the sessions and makes every call. */
  thread: ModelThread;
  /** The threads asked for (model.threads); undefined: ONNX Runtime's default, one per core. */
  threads?: number;
  /** The threads asked for between nodes (model.inter_threads); undefined: ONNX Runtime's default. */
  interThreads?: number;
  /** Whether the thread can open a second session (model/threads.ts): only for small models. */
  copyable: boolean;
  /** Stop the model thread (unless a call never returned: then it stays until the process ends). */
  close(): Promise<void>;
}

/** Models up to this size may get a second session (model/threads.ts): the bench's rf (a 1.9 MB file of 100
 *  trees) peaked ~20 MB higher with two, its mlp (0.3 MB) ~2 MB. */
const MAX_COPY_BYTES = 1024 * 1024;

// Read a model file (a regular file: not a FIFO, device or directory). Errors are SbErrors naming the file.
export async function readModelFile(file: string): Promise<{ bytes: Uint8Array; sha256: string }> {
  const bytes = await readModelBytes(file);
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

// Load a model and create its session in a model thread of its own.
export async function loadModel(file: string, options: SessionOptions = {}): Promise<LoadedModel> {
  const bytes = await readModelBytes(file);
  const declared = parseModel(file, bytes);
  const externalData = await readExternalData(file, bytes);
  const hash = createHash('sha256').update(bytes);
  for (const f of externalData) hash.update(f.data);
  const size = bytes.length;
  // The bytes move to the model thread: nothing here may use them after load().
  const runnable = stripZipMaps(bytes, declared.zipmaps);
  // A second session holds a second copy of the model, its data files included.
  const copyable = options.threads === undefined && externalData.reduce((n, f) => n + f.data.length, size) <= MAX_COPY_BYTES;
  const thread = new ModelThread(options.bounds);
  try {
    await thread.load(file, runnable, { threads: options.threads, interThreads: options.interThreads, optimization: options.optimization }, externalData, copyable);
  } catch (err) {
    await thread.close();
    throw err;
  }
  return {
    path: file,
    sha256: hash.digest('hex'),
    dataFiles: externalData.map((f) => path.resolve(path.dirname(file), f.path)),
    bytes: size,
    declared,
    inputs: declared.inputs,
    outputs: declared.outputs.map((o) => (declared.zipmaps.some((z) => z.output === o.name) ? zipMapAsTensor(o, declared) : o)),
    thread,
    threads: options.threads,
    interThreads: options.interThreads,
    copyable,
    close: () => thread.close(),
  };
}

function zipMapAsTensor(o: ValueInfo, info: ModelInfo): ValueInfo {
  const z = info.zipmaps.find((x) => x.output === o.name);
  const type: TypeInfo = { kind: 'tensor', elemType: 'float32', dims: ['N', z && z.labels.length > 0 ? z.labels.length : ''] };
  return { name: o.name, type };
}

export { cleanOrtMessage } from './ort-message.js';
export { ORT_VERSION } from './ort-version.js';
