// Where a run's results and rejects go, and when they become visible: one object for the four layouts —
// a result per input or one combined result, a rejects file per input or one shared by every input.
//
// - A rejects file with rows is committed before its result, so a result never stands without the rejects
//   that account for its missing rows. A failed input's rejects are committed too (they say why it failed).
// - A rejects file is removed (nothing was rejected, an earlier run's file would describe another run) only
//   once its result was replaced: a failed or stopped run never deletes one.
// - Per-input files are committed when their input is done.
// - A combined result holds every input's rows and is committed once, after the last input, when its row
//   count reconciles with the inputs'; a failed input's rows are rolled back out of it (a stream cannot take
//   them back: they stay, and are counted). The inputs' own rejects files wait for it (sealed: no handle or
//   buffer held), so a stop before it leaves every earlier rejects file as it was.
// - A shared rejects file holds every input's rejects, failed inputs' included, and is committed after the
//   last input, before a combined result.
// - A stop (a signal, a timeout, a reader that closed an output stream) or a bug drops everything not yet
//   committed: a combined result and the rejects files waiting for it stay as an earlier run left them.
//   Per-input results committed before the stop are complete and stay; a shared rejects file is then
//   committed with the rejects of this run's finished inputs (not the open one's), so those results do not
//   stand without theirs; with no result committed, or nothing rejected, it stays as it was.
import { extname } from 'node:path';
import { SbError } from '../errors.js';
import { rejectsSink, type RejectsMark, type RejectsSink } from '../pipeline/rejects.js';
import type { TableWriter, WriterMark } from '../table/writer.js';
import type { Target, TargetPlan } from './targets.js';

/** Where one input's rows and rejects are written. */
export interface InputWriters {
  writer: TableWriter;
  rejects: RejectsSink;
}

export interface OutputTarget {
  /** The writers for one input: its own result and rejects files, or the shared ones (the combined result is
   *  opened on first use). Fails (SbError) when its result cannot be opened: the input fails, nothing of it stays. */
  open(t: Target): Promise<InputWriters>;
  /** The input was scored (`rowsOut` rows): its own files are committed now, rejects first; its rows in the
   *  combined result, and then its own rejects file, wait for finish(). Fails (SbError) when a commit fails:
   *  call inputFailed() then. */
  inputDone(t: Target, rowsOut: number): Promise<void>;
  /** The input failed: its rows leave the combined result, its own result is dropped, its rejects are kept
   *  (committed now if there are any, or in the shared file; none: an earlier run's rejects file stays).
   *  `rolledBack` false: a stream already sent its rows;
   *  `rejectsError`: its own rejects file could not be committed. */
  inputFailed(t: Target): Promise<{ rolledBack: boolean; rejectsError?: SbError }>;
  /** After the last input: the shared rejects file and the rejects files waiting for the combined result,
   *  then the combined result once its rows reconcile.
   *  Returns the error that kept the combined result from being committed (its inputs fail with it); throws
   *  it when no input's rows are in a combined result. */
  finish(): Promise<SbError | undefined>;
  /** The run stops: drop what is not committed (see the header). True when rows of scored inputs were
   *  dropped with the combined result (not a stream, which keeps what it was sent). */
  abort(): Promise<boolean>;
  /** Whether scored rows wait in a combined result that only finish() commits. */
  readonly pending: boolean;
}

/** One input's files while it is scored. */
interface Open {
  t: Target;
  writer: TableWriter;
  rejects: RejectsSink;
  writerMark: WriterMark;
  rejectsMark?: RejectsMark;
  /** Its own rejects file was committed (or that was tried), its own result was committed or dropped. */
  rejectsDone: boolean;
  writerDone: boolean;
}

export interface OutputOptions {
  /** Opens the table writer for a result path. */
  openWriter: (file: string) => Promise<TableWriter>;
  /** Ends a wait for the reader of a stream output. */
  signal?: AbortSignal;
}

// The output target of a run's plan.
export function outputTarget(tp: TargetPlan, o: OutputOptions): OutputTarget {
  const first = tp.targets[0];
  const sharedRejects = first?.rejects && tp.targets.every((t) => t.rejects === first.rejects) ? rejectsSink(first.rejects, delimiterFor(first.rejects), o.signal) : undefined;
  let combined: TableWriter | undefined;
  /** Why the combined result can no longer be committed (a failed mark or rollback left it unknown). */
  let broken: SbError | undefined;
  let current: Open | undefined;
  /** Inputs whose rows are in the combined result, the rows they put there, and rows a stream kept of failed ones. */
  let included = 0;
  let expected = 0;
  let kept = 0;
  let committedOne = false;
  let resultFile: string | undefined;
  /** The sealed rejects files of the inputs in the combined result: committed with it, or dropped. */
  const waiting: RejectsSink[] = [];
  /** finish() ran: every file is committed or dropped. */
  let settled = false;

  const open = async (t: Target): Promise<InputWriters> => {
    if (tp.combined && broken) throw broken;
    const writer = tp.combined ? (combined ??= await o.openWriter(t.output)) : await o.openWriter(t.output);
    const rejects = sharedRejects ?? rejectsSink(t.rejects, delimiterFor(t.rejects), o.signal);
    try {
      const writerMark = await writer.mark();
      const rejectsMark = sharedRejects ? await sharedRejects.mark() : undefined;
      current = { t, writer, rejects, writerMark, rejectsMark, rejectsDone: false, writerDone: false };
    } catch (err) {
      if (tp.combined) broken ??= asError(err);
      else await writer.abort();
      throw err;
    }
    return { writer, rejects };
  };

  const inputDone = async (t: Target, rowsOut: number): Promise<void> => {
    const c = opened(current, t);
    if (tp.combined) {
      if (!sharedRejects) {
        c.rejectsDone = true;
        try {
          await c.rejects.seal();
        } catch (err) {
          await c.rejects.abort();
          throw err;
        }
        waiting.push(c.rejects);
      }
      included++;
      expected += rowsOut;
      resultFile ??= t.output;
    } else {
      if (!sharedRejects) {
        c.rejectsDone = true;
        await c.rejects.commit();
      }
      c.writerDone = true;
      await c.writer.commit();
      committedOne = true;
      if (!sharedRejects) await removeEarlier(c.rejects);
    }
    current = undefined;
  };

  const inputFailed = async (t: Target): Promise<{ rolledBack: boolean; rejectsError?: SbError }> => {
    const c = opened(current, t);
    current = undefined;
    let rolledBack = true;
    if (!c.writerDone) {
      try {
        rolledBack = await c.writer.rollback(c.writerMark);
        if (!rolledBack && tp.combined) kept += c.writer.rows - c.writerMark.rows;
      } catch (err) {
        // The combined result holds rows of a failed input that could not be taken out.
        if (tp.combined) broken ??= asError(err);
      }
    }
    // A result whose commit failed part way may still hold its temporary file.
    if (!tp.combined) await c.writer.abort();
    let rejectsError: SbError | undefined;
    if (!sharedRejects && !c.rejectsDone) {
      try {
        await c.rejects.commit();
      } catch (err) {
        rejectsError = asError(err);
      }
    }
    return { rolledBack, rejectsError };
  };

  const finish = async (): Promise<SbError | undefined> => {
    settled = true;
    let error: SbError | undefined = combined ? broken : undefined;
    if (combined && !error && included > 0 && combined.rows !== expected + kept) {
      error = new SbError('RECONCILE', `counts do not reconcile: the inputs put ${expected + kept} rows into the combined result, which holds ${combined.rows}`, { file: resultFile });
    }
    // Rejects first: the shared file, and the files of the inputs in the combined result (whose rows, if it
    // is not committed, fail with it: their rejects say why they were rejected, as a failed input's do).
    for (const r of [...(sharedRejects ? [sharedRejects] : []), ...waiting]) {
      try {
        await r.commit();
      } catch (err) {
        error ??= asError(err);
        // A commit that failed part way (a write before the rename) may still hold its temporary file.
        await r.abort();
      }
    }
    if (!combined) {
      if (error) throw error;
      if (committedOne && sharedRejects) await removeEarlier(sharedRejects);
      return undefined;
    }
    if (error || included === 0) {
      await combined.abort();
    } else {
      try {
        await combined.commit();
        for (const r of [...(sharedRejects ? [sharedRejects] : []), ...waiting]) await removeEarlier(r);
      } catch (err) {
        error = asError(err);
        await combined.abort();
      }
    }
    if (error && included === 0) throw error;
    return error;
  };

  const abort = async (): Promise<boolean> => {
    if (settled) return false;
    settled = true;
    const c = current;
    current = undefined;
    if (c && !c.writerDone && !tp.combined) await c.writer.abort();
    if (c && !sharedRejects && !c.rejectsDone) await c.rejects.abort();
    for (const r of waiting) await r.abort();
    await combined?.abort();
    const dropped = included > 0 && combined !== undefined && !combined.streamed;
    if (!sharedRejects) return dropped;
    // Per-input results already committed keep the rejects that account for them: the shared file without
    // the open input's rejects. Nothing committed, nothing rejected (or a stream that cannot take them back):
    // the file stays as it was.
    const keep = committedOne && (!c?.rejectsMark || (await sharedRejects.rollback(c.rejectsMark).catch(() => false))) && sharedRejects.count > 0;
    if (keep) await sharedRejects.commit().catch(() => undefined);
    else await sharedRejects.abort();
    return dropped;
  };

  return {
    open,
    inputDone,
    inputFailed,
    finish,
    abort,
    get pending() {
      return tp.combined && included > 0;
    },
  };
}

// The open input's files; calls out of order are a bug.
function opened(c: Open | undefined, t: Target): Open {
  if (!c || c.t !== t) throw new Error(`internal: ${t.display} is not the input being written`);
  return c;
}

// Remove the rejects file an earlier run left, once this run's result replaced the one it went with. A file
// that cannot be removed is not worth failing a committed result for: the next run removes or replaces it.
async function removeEarlier(r: RejectsSink): Promise<void> {
  await r.removeEarlier().catch(() => undefined);
}

// Rejects files are CSV, or TSV by their name.
function delimiterFor(file: string | undefined): string {
  return file && extname(file).toLowerCase() === '.tsv' ? '\t' : ',';
}

// A failure as an SbError; anything else is a bug and goes on up.
function asError(err: unknown): SbError {
  if (err instanceof SbError) return err;
  throw err;
}
