// The reader for an input's format: text formats over the (maybe gzipped) byte stream, Parquet by random
// access to the file (standard input is read whole first: Parquet starts at its footer).
import type { TextFormat } from '../job/config.js';
import type { ColumnNeed } from '../table/chunk.js';
import type { ReadContext, TableReader } from '../table/reader.js';
import { readCsv, type CsvReadOptions, type TextProgress } from './csv-reader.js';
import { readJsonl } from './jsonl-reader.js';
import type { ParquetInput } from './parquet/index.js';
import { assertUnchanged, openSource, type ByteSource, type SourceStat } from '../storage/source.js';
import { inputBlocks } from './input-blocks.js';
import type { QueryReader, QueryShard, Watermark } from '../db/types.js';

/** What a reader needs to read part of a file: text bytes [start, end) from physical line `line` with the
 *  file's header, or Parquet row groups [fromGroup, toGroup) — or the row groups in `groups` (ascending), one
 *  reader's share of a file read by several (pipeline/pieces.ts). */
export interface PieceSpec {
  start: number;
  end: number;
  line?: number;
  header?: string[];
  fromGroup?: number;
  toGroup?: number;
  groups?: number[];
  /** The file as the reader that planned the pieces saw it: a reader that finds it otherwise fails. */
  seen?: SourceStat;
  /** Text: `end` is where another reader of the same file started, at a line start that may lie inside a
   *  quoted field. Reading stops there only if every byte before it was parsed into rows (the reader stands
   *  at a record start, as one reader of the whole file would); otherwise it reads on, and stops at the first
   *  of `stops` (where later readers started) at which it stands at a record start, else at `fileBytes`. It
   *  says so (`spilled`, `through`), and the rows of the readers that started before `through` are not used. */
  handoff?: { fileBytes: number; stops?: number[] };
  /** Text: the piece's bytes are not hashed; the whole file's sha256 is taken once by whoever reads all the
   *  pieces (pipeline/pieces.ts). */
  unhashed?: boolean;
}

/** What a text reader's input came to. */
export interface ReaderEnd {
  bytes: number;
  sha256?: string;
  /** Text: the physical line after the last byte read (relative to the piece's `line`). */
  line?: number;
  /** A handoff piece that did not end at a record start, and was read on past its end... */
  spilled?: boolean;
  /** ...to this offset: a later reader's start at which it stood at a record start, or the file's end. */
  through?: number;
}

/** A query to read instead of a file (input.database), as plain data. */
export interface QuerySpec {
  /** The database URL (with its password: never shown; messages use the database's display). */
  url: string;
  text: string;
  watermark?: Watermark;
  shard?: QueryShard;
  /** Shown to the database's administrators: the job and run. */
  applicationName: string;
}

/** An input to read, as plain data (it crosses to the reader thread). */
export interface ReaderSpec {
  /** The input's path ('-': standard input). */
  file: string;
  /** The input as shown in messages. */
  display: string;
  format: TextFormat;
  csv: CsvReadOptions;
  needs: ColumnNeed[];
  batchSize: number;
  limit?: number;
  /** A shard's piece of the file (see run/shards.ts); absent: the whole file. */
  piece?: PieceSpec;
  /** Read this query's rows instead of a file. */
  query?: QuerySpec;
}

// Open the reader of one input (`given`: its bytes, instead of the source at its path).
export function openTableReader(spec: ReaderSpec, given?: ByteSource): TableReader & { end(): ReaderEnd } {
  if (spec.query) return queryReader(spec, spec.query);
  const piece = spec.piece;
  const ctx: ReadContext = {
    file: spec.display,
    needs: spec.needs,
    batchSize: spec.batchSize,
    limit: spec.limit,
    from: piece && piece.start > 0 && spec.format !== 'parquet' ? { line: piece.line ?? 1 } : undefined,
    rowGroups: piece && spec.format === 'parquet' ? (piece.groups ? { only: piece.groups } : { from: piece.fromGroup ?? 0, to: piece.toGroup }) : undefined,
  };
  if (spec.format === 'parquet') {
    let input: ParquetInput | undefined;
    const chunks = async function* () {
      // Loaded on first use: the Parquet modules cost ~60 ms to load, which CSV and JSON Lines runs skip.
      const { parquetBytes, readParquet } = await import('./parquet/index.js');
      const source = given ?? openSource(spec.file, spec.display);
      if (piece?.seen) await assertUnchanged(source, piece.seen);
      input = readParquet(await parquetBytes(source), ctx);
      yield* input.chunks;
    };
    return { chunks: chunks(), bytes: () => input?.bytesRead ?? 0, end: () => ({ bytes: input?.bytesRead ?? 0, sha256: input?.sha256() }) };
  }
  const stored = given ?? openSource(spec.file, spec.display);
  const source = inputBlocks(stored, piece ? { start: piece.start, end: piece.end } : undefined, { hash: !piece?.unhashed });
  const csv = piece?.header ? { ...spec.csv, header: piece.header } : spec.csv;
  const progress: TextProgress = { settled: () => true, line: () => 1 };
  const rest: ReturnType<ByteSource['open']>[] = [];
  let through: number | undefined;
  // A handoff piece: its range, then (only while the reader is inside a record) on to the next stop, and the
  // next, until it stands at a record start at one of them or the file ends.
  async function* blocks(): AsyncGenerator<Uint8Array> {
    if (piece?.seen) await assertUnchanged(stored, piece.seen);
    yield* source.blocks;
    const handoff = piece?.handoff;
    if (!handoff) return;
    let at = piece.end;
    for (const stop of [...(handoff.stops ?? []).filter((s) => s > at && s < handoff.fileBytes), handoff.fileBytes]) {
      if (progress.settled() || at >= handoff.fileBytes) return;
      const part = stored.open({ start: at, end: stop }, { hash: !piece.unhashed });
      rest.push(part);
      yield* part;
      at = through = stop;
    }
  }
  const chunks = spec.format === 'jsonl' ? readJsonl(blocks(), ctx, progress) : readCsv(blocks(), csv, ctx, progress);
  const bytes = () => rest.reduce((sum, part) => sum + part.bytesRead, source.bytesRead);
  return { chunks, bytes, end: () => ({ bytes: bytes(), sha256: rest.length > 0 ? undefined : source.sha256(), line: progress.line(), spilled: rest.length > 0, through }) };
}

// A query's rows through its database's cursor (the database module loaded on first use). A query has no bytes;
// its end gives the watermark column's largest value when every row was read.
function queryReader(spec: ReaderSpec, q: QuerySpec): TableReader {
  let reader: QueryReader | undefined;
  const chunks = async function* () {
    const { openDatabase } = await import('../db/open.js');
    const db = await openDatabase(q.url, { applicationName: q.applicationName, queryPath: 'input.query' });
    reader = db.readQuery(q.text, { needs: spec.needs, batchSize: spec.batchSize, limit: spec.limit, watermark: q.watermark, shard: q.shard });
    yield* reader.chunks;
  };
  return { chunks: chunks(), bytes: () => 0, end: () => ({ bytes: 0, watermark: reader?.complete ? reader.watermark : undefined }) };
}
