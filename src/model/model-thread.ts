// The model thread (model-worker.ts), seen from the run's thread: requests and their answers. Every answer is
// waited for within the bounds the run gives — a stop (signal or timeout) and its grace period, and for
// `validate` a time per answer — so that a call that never returns never holds the run: the run gives up on
// it, cleans up and reports, and the thread is left to the end of the process (util/abandon.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SbError } from '../errors.js';
import { unlessStopped, type StopBound } from '../util/abandon.js';
import { formatDuration } from '../util/duration.js';
import type { ExternalFile, ModelReply, ModelRequest, Scored, SessionSettings } from './model-worker.js';
import { buffersOf, type NamedTensor, type Outputs, type RunSpec } from './tensors.js';

export interface ModelBounds {
  /** Stop waiting for answers once this bound's signal aborted and its grace passed. */
  stop?: StopBound;
  /** Stop waiting for the answer to a model call after this long (ms): the model is refused (validate).
   *  Loading is not bounded: a large model may take minutes to optimize. */
  answerMs?: number;
}

type Op = ModelRequest['op'];
/** A request in words: what it is (for the list of work left running), and for a model call, what the
 *  model did not do in time (which bounds it by answerMs). */
type Task = { what: string; late?: string };
const LOADING: Task = { what: 'loading the model' };
type Body<O extends Op> = Omit<Extract<ModelRequest, { op: O }>, 'id' | 'op'>;

// The worker's script: next to this file in the build; tests that run the TypeScript sources use the build.
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return path.join(path.dirname(here), 'model-worker.js');
  const built = path.resolve(path.dirname(here), '../../dist/src/model/model-worker.js');
  if (!existsSync(built)) throw new Error(`the model thread needs the build (${built}): run npm run build`);
  return built;
}

let warm: Worker | undefined;

/** Start a model thread now (it loads ONNX Runtime meanwhile) for the next ModelThread; it does not keep the process alive. */
export function warmModelThread(): void {
  if (warm) return;
  const w = spawn();
  warm = w;
  w.unref();
  // A warm thread that stopped (it could not start) is not handed out: the next ModelThread starts its own.
  w.once('exit', () => {
    if (warm === w) warm = undefined;
  });
}

/** Stop the warm model thread if nothing took it. */
export async function dropWarmModelThread(): Promise<void> {
  const w = warm;
  warm = undefined;
  if (w) await stopThread(w);
}

/** Each thread's start: settled once it has loaded ONNX Runtime (or stopped). */
const started = new WeakMap<Worker, Promise<void>>();

// Terminating a thread while it loads ONNX Runtime's native addon aborts the process ("terminate called after
// throwing an instance of 'Napi::Error'"): wait until the thread says it has loaded it, or has stopped.
async function stopThread(w: Worker): Promise<void> {
  w.ref();
  await started.get(w);
  await w.terminate();
}

/** The model thread's young generation: a chunk leaves short-lived objects there (call inputs, ONNX
 *  Runtime's outputs before they are stacked), which the default size let pile up before collecting them:
 *  the bench's lr peaked at 180 MB with it, 173 MB with 2 MB. */
const YOUNG_MB = 2;

// ONNX Runtime 1.29+ on Linux and macOS has usage telemetry on by default: when it creates its environment
// (the first session) it writes a device id and an event database under ~/.cache/Microsoft/DeveloperTools/
// .onnxruntime/, an empty $TMPDIR/mat-debug-<pid>.log and $TMPDIR/.ses, and queues events (model file and
// graph names, producer, hashes) for upload. A batch job must not litter or report its models:
// ORT_DISABLE_TELEMETRY=1 turns all of it off (checked with strace on 1.30: no file is created). It is read
// from the process environment, so it is set here, on the main thread, before the model thread starts (a
// worker thread's process.env is a copy native code never sees); a value the user set (0) is kept.
function disableOrtTelemetry(): void {
  if (!process.env.ORT_DISABLE_TELEMETRY) process.env.ORT_DISABLE_TELEMETRY = '1';
}

function spawn(): Worker {
  disableOrtTelemetry();
  const w = new Worker(workerFile(), { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } });
  // Until a ModelThread takes it, a thread's error is nobody's (the taker listens from then on).
  w.on('error', () => undefined);
  started.set(
    w,
    new Promise<void>((resolve) => {
      const ready = (m: ModelReply) => {
        if (m.id !== 0) return;
        w.off('message', ready);
        resolve();
      };
      w.on('message', ready);
      w.once('exit', () => resolve());
    }),
  );
  return w;
}

export class ModelThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  /** Set once an answer was given up on: the thread is still inside that call, so nothing else can be asked. */
  private stuck?: Error;
  private gone?: Error;
  /** Settles once the latest request was answered or given up on. */
  private before: Promise<void> = Promise.resolve();

  constructor(private readonly bounds: ModelBounds = {}) {
    this.worker = warm ?? spawn();
    warm = undefined;
    this.worker.unref();
    this.worker.on('message', (m: ModelReply) => this.answer(m));
    this.worker.on('error', (err) => this.fail(new Error(`the model thread failed: ${err.message}`)));
    this.worker.on('exit', () => this.fail(new Error('the model thread stopped unexpectedly')));
  }

  /** Create the model's session from its bytes (which move to the thread); `keepBytes` for a second session later. */
  load(file: string, bytes: Uint8Array, settings: SessionSettings, externalData: ExternalFile[], keepBytes: boolean): Promise<void> {
    const transfer = buffersOf([bytes, ...externalData.map((f) => f.data)]);
    return this.ask('load', { file, bytes, settings, externalData, keepBytes }, transfer, LOADING) as Promise<void>;
  }

  /** A second session with `threads` intra-op threads; false if ONNX Runtime refused it. */
  openFewer(threads: number): Promise<boolean> {
    return this.ask('open-fewer', { threads }, [], LOADING) as Promise<boolean>;
  }

  closeFewer(): Promise<void> {
    return this.ask('close-fewer', {}, [], { what: 'releasing a session' }) as Promise<void>;
  }

  /** Score the first `rows` rows of the feeds (whose values move to the thread and come back in the answer). */
  score(feeds: NamedTensor[], rows: number, spec: RunSpec, session: 'own' | 'fewer' = 'own', check?: { rows: number }): Promise<Scored> {
    const on = `${rows} row${rows === 1 ? '' : 's'}`;
    return this.ask('score', { feeds, rows, spec, session, check }, buffersOf(feeds.map((f) => f.data)), { what: `a model call on ${on}`, late: `answer on ${on}` }) as Promise<Scored>;
  }

  /** One call as given (no fixed call size): `validate`'s and `run`'s call on an empty batch. */
  probe(feeds: NamedTensor[], fetch: string[]): Promise<Outputs> {
    return this.ask('probe', { feeds, fetch }, [], { what: 'a model call on an empty batch', late: 'answer on an empty batch' }) as Promise<Outputs>;
  }

  /** Stop the thread (its sessions with it) unless it is still inside a call, which no one can stop. */
  async close(): Promise<void> {
    // Terminating the thread while ONNX Runtime creates a session in it aborts the process (a copy of the
    // model still loading when a short input ends): what it was asked is answered first, or given up on
    // within the bounds (a stop), which leaves it stuck; so is what was asked meanwhile.
    for (let last; last !== this.before; ) {
      last = this.before;
      await last;
    }
    if (this.stuck || this.gone) return;
    const closed = new Error('internal: the model thread was closed');
    this.gone = closed;
    await stopThread(this.worker);
    // Nothing is asked once it is closing (`gone`); should anything still wait, it gets no answer now.
    this.rejectPending(closed);
  }

  private ask<O extends Op>(op: O, body: Body<O>, transfer: ArrayBuffer[], task: Task): Promise<unknown> {
    const refused = this.stuck ?? this.gone;
    if (refused) return Promise.reject(refused);
    const id = this.nextId++;
    const answer = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) this.worker.ref();
    try {
      this.worker.postMessage({ id, op, ...body } as ModelRequest, transfer);
    } catch (err) {
      this.settle(id);
      return Promise.reject(err);
    }
    return this.bounded(answer, task);
  }

  // Wait for an answer within the bounds; a wait given up on leaves the thread stuck for good.
  private bounded(answer: Promise<unknown>, task: Task): Promise<unknown> {
    const stuck = (error: () => Error) => () => {
      const e = error();
      this.stuck ??= e;
      this.worker.unref();
      return e;
    };
    const { stop, answerMs } = this.bounds;
    // Its failure is met through `waited` (which may take it up only once the request before is answered).
    answer.catch(() => undefined);
    let waited = answer;
    if (answerMs !== undefined && task.late) {
      const error = () => new SbError('MODEL_INVALID', `the model did not ${task.late} within ${formatDuration(answerMs)}: it runs far too long for batch scoring, or never ends (a Loop without end); check it with ONNX Runtime alone`, { yamlPath: 'model' });
      // The thread serves one request at a time: this one's time starts once the one before it was answered
      // (or given up on), not while it waits behind it.
      waited = this.before.then(() => unlessStopped(answer, { signal: AbortSignal.timeout(answerMs), graceMs: 0, error: stuck(error) }, task.what));
    }
    if (stop) waited = unlessStopped(waited, { ...stop, error: stuck(stop.error) }, task.what);
    this.before = waited.then(
      () => undefined,
      () => undefined,
    );
    return waited;
  }

  private answer(m: ModelReply): void {
    const p = this.settle(m.id);
    if (!p) return;
    if (m.ok) return p.resolve(m.value);
    const e = m.error;
    if (e.code) return p.reject(new SbError(e.code, e.message, e.yamlPath ? { yamlPath: e.yamlPath } : {}));
    const err = new Error(e.message);
    if (e.stack) err.stack = e.stack;
    p.reject(err);
  }

  private settle(id: number): { resolve: (v: unknown) => void; reject: (e: unknown) => void } | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (p && this.pending.size === 0) this.worker.unref();
    return p;
  }

  private fail(err: Error): void {
    if (this.gone) return;
    this.gone = err;
    this.rejectPending(err);
  }

  private rejectPending(err: Error): void {
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      p.reject(err);
    }
  }
}
