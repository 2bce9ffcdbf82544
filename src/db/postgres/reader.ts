// A query's rows → SourceChunks, batch_size rows at a time through a server-side cursor (pg-cursor), never the
// whole result in memory. The read runs in one READ ONLY, REPEATABLE READ transaction: every chunk comes
// from the same snapshot, and a query that would write is refused by the server. A chunk's header is every
// column of the query's result; a row's "line" is its ordinal in the result (1-based) and its record holds all
// of its columns, so a rejected row shows its key and watermark columns beside the ordinal.
import Cursor from 'pg-cursor';
import type pg from 'pg';
import { SbError } from '../../errors.js';
import { ChunkBuilder, StoragePool } from '../../table/builder.js';
import { resolveColumns } from '../../table/reader.js';
import type { SourceChunk } from '../../table/chunk.js';
import type { QueryReader, QueryReadOptions, ValueKind } from '../types.js';
import { bounded, closeSession, lossReason, settle, type PgEndpoint, type Session } from './connection.js';
import { pgFailure } from './failures.js';
import { readStatement } from './sql.js';
import { cellText, cellWriter, kindOf, type CellWriter } from './values.js';

type RawRow = (string | null)[];

interface Batch {
  rows: RawRow[];
  fields: pg.FieldDef[];
}

// Every value as the server's text: values.ts decides what it means (pg's own parsers would make int8 and
// numeric lossy numbers and timestamps Dates in the machine's zone).
const RAW: pg.CustomTypesConfig = { getTypeParser: () => (s: string) => s } as unknown as pg.CustomTypesConfig;

/** How the columns of a query's result become cells. */
interface ColumnPlan {
  header: string[];
  kinds: ValueKind[];
  needs: ReturnType<typeof resolveColumns>;
  /** Header positions the run reads, and how. */
  fields: number[];
  writers: CellWriter[];
  watermark: number;
  /** Chunk storage reused once the pipeline releases a chunk. */
  pool: StoragePool;
  capacity: number;
}

// Read a query; `yamlPath` names it in messages (where the job names it).
export function readQuery(endpoint: PgEndpoint, query: string, o: QueryReadOptions, yamlPath?: string): QueryReader {
  const state = { rows: 0, watermark: undefined as string | undefined, complete: false };
  const statement = readStatement(query, { watermark: o.watermark, shard: o.shard });
  const fail = (err: unknown, note?: string) => pgFailure(err, { display: endpoint.display, phase: 'read', what: `cannot read the query on ${endpoint.display}`, statement, note, yamlPath });

  async function* chunks(): AsyncGenerator<SourceChunk> {
    let left = o.limit ?? Infinity;
    let asked = Math.min(o.batchSize, left);
    if (!(asked >= 1)) return;
    let opened: { session: Session; cursor: Cursor; batch: Batch };
    try {
      // Connecting, planning and the first rows are tried again after a transient failure; later rows are not
      // (the snapshot they belong to is gone with the connection).
      opened = await endpoint.retrying(async () => {
        const session = await endpoint.openSession();
        try {
          await session.client.query('begin isolation level repeatable read read only');
          const cursor = session.client.query(new Cursor(statement.text, statement.values, { rowMode: 'array', types: RAW }));
          return { session, cursor, batch: await readBatch(cursor, asked) };
        } catch (err) {
          await closeSession(session);
          throw err;
        }
      });
    } catch (err) {
      throw fail(err);
    }
    const { session, cursor } = opened;
    let batch = opened.batch;
    /** The cursor is finished: read to its end, or failed (then it must not be closed: pg-cursor would wait
     *  for an answer a dead connection never sends). */
    let done = false;
    try {
      const plan = planColumns(batch.fields, o, endpoint.display, yamlPath);
      for (;;) {
        const got = batch.rows.length;
        if (got > 0) {
          const chunk = chunkOf(plan, batch.rows, state.rows + 1);
          state.rows += got;
          left -= got;
          if (plan.watermark !== -1) state.watermark = batch.rows[got - 1][plan.watermark] ?? state.watermark;
          yield chunk;
        }
        // Fewer rows than asked for: the cursor reached the end of the result.
        if (got < asked) {
          state.complete = true;
          done = true;
          break;
        }
        if (left <= 0) break;
        asked = Math.min(o.batchSize, left);
        try {
          await settle();
          batch = await readBatch(cursor, asked);
        } catch (err) {
          done = true;
          throw fail(await lossReason(session, err), `after ${state.rows.toLocaleString('en-US')} rows`);
        }
      }
    } finally {
      await finish(session, cursor, done);
    }
  }

  return {
    chunks: chunks(),
    get rows() {
      return state.rows;
    },
    get watermark() {
      return state.watermark;
    },
    get complete() {
      return state.complete;
    },
  };
}

// The next rows of the cursor, with the result's columns.
function readBatch(cursor: Cursor, n: number): Promise<Batch> {
  let fields: pg.FieldDef[] = [];
  return new Promise((resolve, reject) => {
    cursor.read(n, (err, rows, result) => {
      if (err) reject(err);
      else {
        if (result?.fields) fields = result.fields;
        resolve({ rows: rows as RawRow[], fields });
      }
    });
  });
}

// Close the cursor, end the read-only transaction and the session (at once if the connection is gone).
async function finish(session: Session, cursor: Cursor, done: boolean): Promise<void> {
  if (!session.lost) {
    await bounded(
      (async () => {
        if (!done) await cursor.close();
        await session.client.query('rollback');
      })(),
    );
  }
  await closeSession(session);
}

// Which columns of the result the run reads (a missing or doubled one fails before any row is used).
function planColumns(fields: pg.FieldDef[], o: QueryReadOptions, display: string, yamlPath?: string): ColumnPlan {
  const header = fields.map((f) => f.name);
  const kinds = fields.map((f) => kindOf(f.dataTypeID));
  let needs: ColumnPlan['needs'];
  try {
    needs = resolveColumns(header, o.needs, `query on ${display}`, undefined, "the query's result");
  } catch (err) {
    // The query, not a file that may be different next time: the job must change (exit 2).
    throw err instanceof SbError ? new SbError('DB_INVALID', err.message, { ...err.context, yamlPath }) : err;
  }
  const fieldSet = [...new Set(needs.map((n) => n.index))].sort((a, b) => a - b);
  const writers: CellWriter[] = kinds.map((k) => cellWriter(k));
  const watermark = o.watermark ? header.indexOf(o.watermark.column) : -1;
  return { header, kinds, needs, fields: fieldSet, writers, watermark, pool: new StoragePool(), capacity: o.batchSize };
}

// One chunk from a batch of rows; `first` is the ordinal of its first row in the result.
function chunkOf(plan: ColumnPlan, batch: RawRow[], first: number): SourceChunk {
  const rows = new ChunkBuilder(plan.header, plan.needs, Math.max(plan.capacity, batch.length), { pool: plan.pool });
  const { fields, writers } = plan;
  for (let i = 0; i < batch.length; i++) {
    const raw = batch[i];
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k];
      const s = raw[f];
      if (s === null) rows.missing(f, i);
      else writers[f](rows, f, i, s);
    }
    rows.accept(first + i);
  }
  const chunk = rows.build();
  chunk.record = (i) => batch[i].map((s, f) => cellText(plan.kinds[f], s));
  return chunk;
}
