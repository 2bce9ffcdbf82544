// Loading a model: bytes → ModelInfo → (ZipMap stripped) → one ONNX Runtime session in the model thread,
// reused for every chunk and input of a job.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { SbError } from '../errors.js';
import type { Optimization } from '../job/config.js';
import { readModelInfo, type ModelInfo, type TypeInfo, type ValueInfo } from './model-info.js';
import { readExternalData, readModelBytes } from './model-file.js';
import type { ExternalFile, SessionSettings } from './model-worker.js';
import { ModelThread, type ModelBounds } from './model-thread.js';
import { opTypes, stripZipMaps } from './zipmap.js';

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
  /** A small tree ensemble's copies in more model threads, to score a large input's chunks in parallel
   *  (model/threads.ts); each of its sessions, the own one included, has one intra-op thread. */
  copies?: ModelCopies;
  /** Stop the model thread (unless a call never returned: then it stays until the process ends). */
  close(): Promise<void>;
}

/** Model threads with copies of the model's session, started when first asked for and stopped with the model. */
export interface ModelCopies {
  /** The first `count` copies, each settled once its session is loaded (rejected if it cannot be). */
  take(count: number): Promise<ModelThread>[];
}

/** ONNX's tree ensemble operators (ai.onnx.ml). */
const TREE_OPS = new Set(['TreeEnsembleRegressor', 'TreeEnsembleClassifier', 'TreeEnsemble']);

/** A tree ensemble up to this size, its data files included, runs on one intra-op thread in every session and
 *  gets copies for a large input. ONNX Runtime adds a row's trees up in another order on another number of
 *  threads, so one thread everywhere gives the same bits whatever the cores; it also takes ~13% less CPU than
 *  two (README "Performance"). Each copy costs a thread and a session: ~40 MB for the bench's 1.9 MB forest. */
const MAX_TREE_COPY_BYTES = 4 * 1024 * 1024;

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
  const total = externalData.reduce((n, f) => n + f.data.length, size);
  const tree = options.threads === undefined && total <= MAX_TREE_COPY_BYTES && opTypes(runnable).some((op) => TREE_OPS.has(op));
  const copyable = !tree && options.threads === undefined && total <= MAX_COPY_BYTES;
  const settings: SessionSettings = { threads: tree ? 1 : options.threads, interThreads: options.interThreads, optimization: options.optimization };
  // Copied before the bytes move to the model thread.
  const copies = tree ? modelCopies(file, runnable, settings, externalData, options.bounds) : undefined;
  const thread = new ModelThread(options.bounds);
  const close = async () => {
    await Promise.all([thread.close(), copies?.close()]);
  };
  try {
    await thread.load(file, runnable, settings, externalData, copyable);
  } catch (err) {
    await close();
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
    copies,
    close,
  };
}

// Copies of a model loaded from copies of its bytes (the model thread's own bytes move to it).
function modelCopies(file: string, bytes: Uint8Array, settings: SessionSettings, externalData: ExternalFile[], bounds: ModelBounds | undefined): ModelCopies & { close(): Promise<void> } {
  const model = new Uint8Array(bytes);
  const data = externalData.map((f) => ({ path: f.path, data: new Uint8Array(f.data) }));
  const started: { thread: ModelThread; loaded: Promise<ModelThread> }[] = [];
  return {
    take(count) {
      while (started.length < count) {
        const thread = new ModelThread(bounds);
        // Each load moves its bytes to its thread: every copy gets its own.
        const files = data.map((f) => ({ path: f.path, data: new Uint8Array(f.data) }));
        const loaded = thread.load(file, new Uint8Array(model), settings, files, false).then(() => thread);
        loaded.catch(() => undefined);
        started.push({ thread, loaded });
      }
      return started.slice(0, count).map((s) => s.loaded);
    },
    async close() {
      await Promise.all(started.map((s) => s.thread.close()));
    },
  };
}

function zipMapAsTensor(o: ValueInfo, info: ModelInfo): ValueInfo {
  const z = info.zipmaps.find((x) => x.output === o.name);
  const type: TypeInfo = { kind: 'tensor', elemType: 'float32', dims: ['N', z && z.labels.length > 0 ? z.labels.length : ''] };
  return { name: o.name, type };
}

export { cleanOrtMessage } from './ort-message.js';
export { ORT_VERSION } from './ort-version.js';
