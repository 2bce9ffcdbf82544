// The rejects file (errors.rejects): `_file, _line, _error`, then the row's original fields. Opened on the
// first reject, written atomically like results; also keeps the first few rejects for messages.
import { stringify } from 'csv-stringify/sync';
import { openSink, removeOutdated, type ByteSink } from '../storage/sink.js';
import type { Reject } from '../table/chunk.js';
import { CSV_OPTIONS } from '../io/csv-writer.js';

export interface RejectsSink {
  add(file: string, header: string[], rejects: Reject[]): Promise<void>;
  /** Publish the file if anything was rejected; otherwise remove an old file at that path (it would lie). */
  commit(): Promise<void>;
  abort(): Promise<void>;
  readonly count: number;
  readonly target: string | undefined;
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
      if (sink) await sink.commit();
      else if (target) await removeOutdated(target);
    },
    async abort() {
      await sink?.abort();
    },
  };
}

// `line 5: column 'x': 'abc' is not a number; line 9: …` for messages.
export function describeRejects(rejects: readonly (Reject & { file: string })[]): string {
  return rejects.map((r) => `${r.file}:${r.line}: ${r.error}`).join('; ');
}
