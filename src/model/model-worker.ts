// The model thread's entry (model-thread.ts starts it): it owns the model's ONNX Runtime sessions and makes
// every call on them. ONNX Runtime's session.run holds the thread that calls it until it returns; here that
// is this thread, so the run's own thread keeps reacting to signals, reading and writing meanwhile.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { SbError, type ErrorCode } from '../errors.js';
import { cleanOrtMessage } from './ort-message.js';
import { runModel, sameOutputs } from './runner.js';
import { buffersOf, rowWidth, type NamedTensor, type Outputs, type RunSpec, type TensorData, type TensorValues } from './tensors.js';

export interface SessionSettings {
  threads?: number;
  interThreads?: number;
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

/** A file the model keeps tensors in, by the name the model gives it, with its bytes. */
export interface ExternalFile {
  path: string;
  data: Uint8Array;
}

export type ModelRequest = { id: number } & (
  | { op: 'load'; file: string; bytes: Uint8Array; settings: SessionSettings; externalData: ExternalFile[]; keepBytes: boolean }
  | { op: 'open-fewer'; threads: number }
  | { op: 'close-fewer' }
  | { op: 'score'; session: 'own' | 'fewer'; feeds: NamedTensor[]; rows: number; spec: RunSpec; check?: { rows: number } }
  | { op: 'probe'; feeds: NamedTensor[]; fetch: string[] }
);

export interface Scored {
  outputs: Outputs;
  /** The time of the scoring call alone (ms), without the check. */
  ms: number;
  /** With a check: whether the other session gave the same outputs (if not, `outputs` are the own session's). */
  same?: boolean;
  /** The feeds' typed arrays, handed back for reuse (null for strings, which were copied, not moved). */
  feeds: (Exclude<TensorValues, string[]> | null)[];
}

export type ModelReply =
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; error: { code?: ErrorCode; message: string; yamlPath?: string; stack?: string } };

// Severity 4 (fatal): ONNX Runtime otherwise prints its own `[E:onnxruntime:...]` lines on stderr; its
// errors reach us as exceptions and are reported in our own words.
const QUIET = 4;

const port = parentPort;
if (!port) throw new Error('model-worker.js runs as a worker thread');

let own: ort.InferenceSession | undefined;
let fewer: ort.InferenceSession | undefined;
/** What the own session was made from, for a second session (kept only when asked). */
let source: { bytes: Uint8Array; options: ort.InferenceSession.SessionOptions } | undefined;

// One request at a time, in the order they came: a call's awaits (ONNX Runtime's run answers through
// setImmediate) must not let a later request in, such as closing the session a call in flight is using.
let queue = Promise.resolve();
port.on('message', (m: ModelRequest) => {
  const served = queue.then(() => serve(m));
  queue = served.catch(() => undefined);
});
// ONNX Runtime is loaded (the imports above): from now on the thread may be stopped (model-thread.ts waits for
// this before terminating; stopping it while the native addon loads aborts the whole process).
port.postMessage({ id: 0, ok: true, value: 'ready' } satisfies ModelReply);

async function serve(m: ModelRequest): Promise<void> {
  const p = port as NonNullable<typeof port>;
  try {
    const { value, transfer } = await handle(m);
    p.postMessage({ id: m.id, ok: true, value } satisfies ModelReply, transfer);
  } catch (err) {
    const error = err instanceof SbError ? { code: err.code, message: err.message, yamlPath: err.context.yamlPath } : { message: (err as Error).message, stack: (err as Error).stack };
    p.postMessage({ id: m.id, ok: false, error } satisfies ModelReply);
  }
}

async function handle(m: ModelRequest): Promise<{ value?: unknown; transfer?: ArrayBuffer[] }> {
  switch (m.op) {
    case 'load': {
      const options = sessionOptions(m.settings, m.externalData);
      try {
        own = await ort.InferenceSession.create(m.bytes, options);
      } catch (err) {
        throw new SbError('MODEL_INVALID', `${m.file} cannot be loaded by ONNX Runtime: ${cleanOrtMessage(err)}`, { yamlPath: 'model' });
      }
      if (m.keepBytes) source = { bytes: m.bytes, options };
      return {};
    }
    case 'open-fewer':
      // Should ONNX Runtime refuse a second session, the own one serves.
      if (!source) return { value: false };
      fewer = await ort.InferenceSession.create(source.bytes, { ...source.options, intraOpNumThreads: m.threads }).catch(() => undefined);
      return { value: fewer !== undefined };
    case 'close-fewer': {
      const s = fewer;
      fewer = undefined;
      await s?.release();
      return {};
    }
    case 'score': {
      const scored = await score(m.session === 'fewer' && fewer ? fewer : ownSession(), m.feeds, m.rows, m.spec, m.check);
      const values = [...Object.values(scored.outputs).map((t) => t.data), ...scored.feeds.filter((f) => f !== null)];
      return { value: scored, transfer: buffersOf(values) };
    }
    case 'probe': {
      try {
        const out = await ownSession().run(Object.fromEntries(m.feeds.map((f) => [f.input, new ort.Tensor(f.type as ort.Tensor.Type, f.data as never, f.dims)])), m.fetch);
        return { value: Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { type: t.type, data: t.data, dims: [...t.dims] } as TensorData])) };
      } catch (err) {
        throw new SbError('MODEL_RUNTIME', cleanOrtMessage(err));
      }
    }
  }
}

function ownSession(): ort.InferenceSession {
  if (!own) throw new Error('internal: the model thread has no model');
  return own;
}

// Score the rows on `session`; with a check, also score the first check.rows rows on the own session and
// keep the call only when both agree bit for bit (else the own session's outputs).
async function score(session: ort.InferenceSession, feeds: NamedTensor[], rows: number, spec: RunSpec, check?: { rows: number }): Promise<Scored> {
  const started = performance.now();
  let outputs = await runModel(session, feeds, rows, spec);
  const ms = performance.now() - started;
  let same: boolean | undefined;
  if (check) {
    const n = Math.min(check.rows, rows);
    const reference = await runModel(ownSession(), feeds, n, spec);
    same = sameOutputs(headRows(outputs, n), reference);
    if (!same) outputs = n === rows ? reference : await runModel(ownSession(), feeds, rows, spec);
  }
  return { outputs, ms, same, feeds: feeds.map((f) => (Array.isArray(f.data) ? null : f.data)) };
}

// The first `rows` rows of batch-first outputs (views).
function headRows(outputs: Outputs, rows: number): Outputs {
  return Object.fromEntries(
    Object.entries(outputs).map(([name, t]) => {
      const width = rowWidth(t.dims);
      const data = Array.isArray(t.data) ? t.data.slice(0, rows * width) : t.data.subarray(0, rows * width);
      return [name, { type: t.type, data, dims: [rows, ...t.dims.slice(1)] }];
    }),
  );
}

function sessionOptions(s: SessionSettings, externalData: ExternalFile[]): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    logSeverityLevel: QUIET,
    graphOptimizationLevel: s.optimization ?? 'all',
    executionMode: 'sequential',
    // The memory pattern pre-plans every intermediate buffer of a call at once; without it an MLP's call on
    // 8192 rows peaked ~17 MB lower at the same speed (the bench's mlp).
    enableMemPattern: false,
    // Idle ONNX Runtime threads spin by default, taking the core the reader thread parses on; batch calls
    // are big enough that waking a thread costs nothing measurable (README "Performance").
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  // ONNX Runtime rejects keys set to undefined, and silently ignores unknown ones: set only what is given.
  if (s.threads !== undefined) options.intraOpNumThreads = s.threads;
  if (s.interThreads !== undefined) options.interOpNumThreads = s.interThreads;
  // The model is given as bytes, so ONNX Runtime cannot find its data files itself (it would look in the
  // working directory): they are read beside the model and handed over by the names the model gives them.
  if (externalData.length > 0) options.externalData = externalData.map((f) => ({ path: f.path, data: f.data }));
  return options;
}
