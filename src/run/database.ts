// A run's databases (input.database, output.database), through the backend module of each URL (src/db): a
// query is the run's one input, read by io/table-reader.ts like a file; a table is the run's one combined
// result, written through the TableWriter interface a file has and committed where a combined file is (after
// the last input, once the counts reconcile), in one transaction: the table changes whole or not at all.
import { createHash } from 'node:crypto';
import { openDatabase } from '../db/open.js';
import type { Database, QueryColumn, TargetCheck, TargetColumn } from '../db/types.js';
import { SbError } from '../errors.js';
import type { InputFile } from '../io/inputs.js';
import type { QuerySpec } from '../io/table-reader.js';
import type { JobConfig } from '../job/config.js';
import type { LoadedModel } from '../model/session.js';
import type { RunPlan } from '../pipeline/plan.js';
import { resultFields } from '../pipeline/result-fields.js';
import type { TableWriter } from '../table/writer.js';
import type { Ledger, ScoredInput } from './ledger.js';
import type { InputRecord } from './record.js';
import type { ShardPlan, ShardSpec } from './shards.js';
import type { TargetPlan } from './targets.js';
import { shownNames } from '../util/quote.js';
import { didYouMean } from '../util/suggest.js';

export interface RunDatabases {
  input?: Database;
  output?: Database;
}

// The databases a job reads and writes (nothing connects before they are used).
export async function jobDatabases(job: JobConfig, runId: string, signal?: AbortSignal): Promise<RunDatabases> {
  const applicationName = appName(job, runId);
  return {
    input: job.input.query ? await openDatabase(job.input.query.database, { applicationName, signal, queryPath: 'input.query' }) : undefined,
    output: job.output.table ? await openDatabase(job.output.table.database, { applicationName, signal, tablePath: 'output.table' }) : undefined,
  };
}

// How the database's administrators see the run's sessions (pg_stat_activity); PostgreSQL keeps 63 bytes.
function appName(job: JobConfig, runId: string): string {
  return `serve-batch ${job.name} ${runId}`.slice(0, 63);
}

// A query as the run's one input, named by its database as shown (never with the password).
export function queryInputs(db: Database): InputFile[] {
  return [{ path: db.display }];
}

// What the reader of a query input reads: the query, the rows above `after` (the ledger's watermark), and in a
// sharded run the rows of this worker's shard.
export function querySpec(job: JobConfig, runId: string, shard?: ShardSpec, after?: string): QuerySpec {
  const q = job.input.query as NonNullable<JobConfig['input']['query']>;
  return {
    url: q.database,
    text: q.text,
    applicationName: appName(job, runId),
    ...(q.watermark ? { watermark: { column: q.watermark, after } } : {}),
    ...(shard && q.shardKey ? { shard: { column: q.shardKey, index: shard.index, count: shard.count } } : {}),
  };
}

// The shard plan of a query: every worker reads the query, each the rows whose shard_key hashes to its index.
export function queryShardPlan(job: JobConfig, db: Database, count: number): ShardPlan {
  const q = job.input.query as NonNullable<JobConfig['input']['query']>;
  const hash = createHash('sha256').update(JSON.stringify([db.display, q.text, q.shardKey, count])).digest('hex');
  return { count, shards: Array.from({ length: count }, () => [{ path: db.display, bytes: 0, fileBytes: 0 }]), splits: [], hash, totalBytes: 0 };
}

// What a sharded run over a query cannot do (exit 2, naming the key to change).
export function checkQueryShards(job: JobConfig): void {
  if (job.input.query && !job.input.query.shardKey) {
    throw new SbError('JOB_INVALID', 'a sharded run over a query needs input.shard_key: a column of its result whose hash picks the worker of each row (e.g. shard_key: id)', { yamlPath: 'input.shard_key' });
  }
  if (job.output.table?.mode === 'replace') {
    throw new SbError('JOB_INVALID', "mode: replace cannot be sharded: each worker's transaction would replace the rows the others wrote; use mode: append or upsert, or run unsharded", { yamlPath: 'output.mode' });
  }
}

// The run's targets with the table as their output: one combined result, no file.
export function toTable(tp: TargetPlan, job: JobConfig, db: Database): TargetPlan {
  const label = `${(job.output.table as NonNullable<JobConfig['output']['table']>).table} on ${db.display}`;
  return { ...tp, combined: true, table: true, targets: tp.targets.map((t) => ({ ...t, output: label })) };
}

// The result's table writer: columns typed from the model's outputs and the plan; a table the run creates
// (create: true) keeps, for each passthrough column of a query, the type the query's result gives it.
export async function openResultTable(job: JobConfig, db: Database, plan: RunPlan, model: LoadedModel, runId: string, input?: Database): Promise<TableWriter> {
  const t = job.output.table as NonNullable<JobConfig['output']['table']>;
  const types = t.create && input && job.input.query && plan.passthrough.length > 0 ? await sourceTypes(input, job.input.query.text) : new Map<string, string>();
  const columns: TargetColumn[] = resultFields(plan, model).map((f) => {
    const sqlType = plan.passthrough.includes(f.name) ? types.get(f.name) : undefined;
    return sqlType ? { ...f, sqlType } : f;
  });
  return db.openTableWriter({ table: t.table, mode: t.mode, key: t.key, create: t.create, columns, ...(t.runIdColumn ? { runId: { column: t.runIdColumn, value: runId } } : {}) });
}

// The type of each column of a query's result (`limit 0`).
async function sourceTypes(db: Database, query: string): Promise<Map<string, string>> {
  return new Map((await db.describeQuery(query)).map((c) => [c.name, c.type]));
}

// The watermark an earlier run reached for this query (undefined: read every row).
export function watermarkAfter(job: JobConfig, db: Database, ledger: Ledger | undefined): string | undefined {
  const q = job.input.query;
  return q?.watermark && ledger ? ledger.watermark(db.display, q.text, q.watermark)?.value : undefined;
}

// The ledger entry of a query read by watermark whose result was committed: the largest value it read.
export function watermarkScored(job: JobConfig, db: Database, rec: InputRecord, value: string, now: Date): ScoredInput {
  const q = job.input.query as NonNullable<JobConfig['input']['query']>;
  return { database: db.display, query: q.text, column: q.watermark as string, value, scored_at: now.toISOString(), rows_in: rec.rows_in, rows_out: rec.rows_out, rows_rejected: rec.rows_rejected };
}

// What the record says about a query input: its text, and the watermark range it read.
export function queryRecord(spec: QuerySpec): NonNullable<InputRecord['query']> {
  return { text: spec.text, ...(spec.watermark ? { watermark: { column: spec.watermark.column, after: spec.watermark.after ?? null, to: null } } : {}), ...(spec.shard ? { shard: spec.shard } : {}) };
}

// Every target reads the query (a run over a query has one target; a sharded one, this worker's shard).
export function withQuery(tp: TargetPlan, spec: QuerySpec): TargetPlan {
  for (const t of tp.targets) t.query = spec;
  return tp;
}

// --dry-run: the database's plan for each query target, as it would be read, into its record.
export async function explainQueries(tp: TargetPlan, db: Database, records: InputRecord[]): Promise<void> {
  for (const [i, t] of tp.targets.entries()) {
    const rec = records[i];
    if (!t.query || !rec) continue;
    rec.query = { ...queryRecord(t.query), plan: await db.explainQuery(t.query.text, { watermark: t.query.watermark, shard: t.query.shard }) };
  }
}

// Before a run reads a row (and in validate): the query runs with `limit 0` — which proves the server answers,
// the credentials and the SQL are good and the user may read what it reads — and its result has the columns
// the job needs. Fails with the database's error (DB_INVALID: exit 2; DB_UNREACHABLE: exit 1).
export async function checkQuery(job: JobConfig, db: Database, plan: RunPlan, spec: QuerySpec): Promise<QueryColumn[]> {
  const columns = await db.describeQuery(spec.text, { watermark: spec.watermark, shard: spec.shard });
  const names = columns.map((c) => c.name);
  const missing = plan.needs.filter((n) => !names.includes(n.name)).map((n) => `column '${n.name}' is not in the query's result${didYouMean(n.name, names)}`);
  const q = job.input.query as NonNullable<JobConfig['input']['query']>;
  for (const [key, column] of [['watermark', q.watermark], ['shard_key', q.shardKey]] as const) {
    if (column !== undefined && !names.includes(column)) missing.push(`input.${key} '${column}' is not a column of the query's result${didYouMean(column, names)}`);
  }
  if (missing.length > 0) {
    throw new SbError('DB_INVALID', `${missing[0]} (columns: ${shownNames(names)}); change input.query or the job's columns`, { yamlPath: 'input.query', problems: missing.slice(1) });
  }
  return columns;
}

// Before a run scores a row (and in validate): the target table takes the result — it exists (or create: true),
// has its columns with types that hold them, the key's unique index, and the user's privileges (every problem
// at once, each with what fixes it).
export async function checkTable(job: JobConfig, db: Database, plan: RunPlan, model: LoadedModel, runId: string): Promise<TargetCheck> {
  const t = job.output.table as NonNullable<JobConfig['output']['table']>;
  const columns = resultFields(plan, model);
  const check = await db.checkTarget({ table: t.table, mode: t.mode, key: t.key, create: t.create, columns, ...(t.runIdColumn ? { runId: { column: t.runIdColumn, value: runId } } : {}) });
  if (check.problems.length > 0) {
    throw new SbError('DB_INVALID', `cannot write table ${t.table} on ${db.display}: ${check.problems[0]}`, { yamlPath: 'output.table', problems: check.problems.slice(1) });
  }
  return check;
}
