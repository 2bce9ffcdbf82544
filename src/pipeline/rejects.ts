// The rejects file (errors.rejects): `_file, _line, _error`, then the row's original fields. Opened on the
// first reject, written atomically like results; also keeps the first few rejects for messages.
import { stringify } from 'csv-stringify/sync';
import { openSink, removeOutdated, type ByteSink } from '../storage/sink.js';
import type { Reject } from '../table/chunk.js';
import { CSV_OPTIONS } from '../io/csv-writer.js';

export interface RejectsSink {
  add(file: string, header: string[], rejects: Reject[]): Promise<void>;
  /** Publish the file if anything was rejected (nothing was: nothing happens, an earlier file stays). */
  commit(): Promise<void>;
  /** Nothing was rejected: remove the file an earlier run left at the path (it would describe another run).
   *  Only once the result it goes with was replaced: a failed or stopped run leaves an earlier file alone. */
  removeEarlier(): Promise<void>;
  /** The rejects are all added; commit() comes later (see ByteSink.seal). */
  seal(): Promise<void>;
  abort(): Promise<void>;
  /** Remember what was added so far; `rollback` forgets what was added after it (false: a stream sent it). */
  mark(): Promise<RejectsMark>;
  rollback(mark: RejectsMark): Promise<boolean>;
  readonly count: number;
  readonly target: string | undefined;
}

export interface RejectsMark {
  /** Bytes of the file, or -1 before it was opened. */
  bytes: number;
  count: number;
}

// `signal` ends a wait for the reader of a stream target.
export function rejectsSink(target: string | undefined, delimiter: string, signal?: AbortSignal): RejectsSink {
  let sink: ByteSink | undefined;
  let count = 0;
  return {
    target,
    get count() {
      return count;
    },
    async add(file, header, rejects) {
      if (rejects.length === 0) return;
      count += rejects.length;
      if (!target) return;
      const rows = rejects.map((r) => [file, String(r.line), r.error, ...r.fields]);
      if (!sink) {
        sink = await openSink(target, { signal });
        rows.unshift(['_file', '_line', '_error', ...header]);
      }
      await sink.write(stringify(rows, CSV_OPTIONS(delimiter)));
    },
    async commit() {
      await sink?.commit();
    },
    async removeEarlier() {
      if (!sink && target) await removeOutdated(target);
    },
    async seal() {
      await sink?.seal?.();
    },
    async abort() {
      await sink?.abort();
    },
    async mark() {
      return { bytes: sink ? await sink.mark() : -1, count };
    },
    async rollback(m) {
      if (m.bytes === -1) {
        await sink?.abort();
        sink = undefined;
      } else if (!(await (sink as ByteSink).rollback(m.bytes))) return false;
      count = m.count;
      return true;
    },
  };
}

// `line 5: column 'x': 'abc' is not a number; line 9: …` for messages.
export function describeRejects(rejects: readonly (Reject & { file: string })[]): string {
  return rejects.map((r) => `${r.file}:${r.line}: ${r.error}`).join('; ');
}
