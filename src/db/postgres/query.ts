// A query's shape and plan without reading its rows: the `limit 0` probe validate uses (it also proves the user
// may read everything the query reads: privileges are checked when a statement runs), and EXPLAIN for
// --dry-run.
import type pg from 'pg';
import type { QueryColumn, QueryShard, Watermark } from '../types.js';
import type { PgEndpoint } from './connection.js';
import { pgFailure } from './failures.js';
import { explainStatement, readStatement, type Statement } from './sql.js';
import { kindOf } from './values.js';

// The result columns of a query with their types, from running it with `limit 0`.
export async function describeQuery(endpoint: PgEndpoint, query: string, o: { watermark?: Watermark; shard?: QueryShard } = {}, yamlPath?: string): Promise<QueryColumn[]> {
  const statement = readStatement(query, { ...o, limit0: true });
  return endpoint.withSession(
    async (s) => {
      await s.client.query('begin read only');
      const r = await s.client.query({ text: statement.text, values: statement.values });
      const names = await typeNames(s.client, r.fields);
      await s.client.query('rollback');
      return r.fields.map((f) => ({ name: f.name, type: names.get(key(f)) ?? String(f.dataTypeID), kind: kindOf(f.dataTypeID) }));
    },
    (err) => failure(endpoint, err, statement, 'cannot run the query', yamlPath),
  );
}

// The server's plan for reading the query as a run would (watermark and shard conditions included).
export async function explainQuery(endpoint: PgEndpoint, query: string, o: { watermark?: Watermark; shard?: QueryShard } = {}, yamlPath?: string): Promise<string[]> {
  const statement = explainStatement(readStatement(query, o));
  return endpoint.withSession(
    async (s) => {
      const r = await s.client.query<{ 'QUERY PLAN': string }>({ text: statement.text, values: statement.values });
      return r.rows.map((row) => row['QUERY PLAN']);
    },
    (err) => failure(endpoint, err, statement, 'cannot explain the query', yamlPath),
  );
}

const key = (f: pg.FieldDef) => `${f.dataTypeID}/${f.dataTypeModifier}`;

// format_type of each column's type (`numeric(10,2)`, `timestamp with time zone`).
async function typeNames(client: pg.Client, fields: pg.FieldDef[]): Promise<Map<string, string>> {
  const pairs = [...new Map(fields.map((f) => [key(f), f])).values()];
  if (pairs.length === 0) return new Map();
  const r = await client.query<{ k: string; name: string }>(
    "select oid::text || '/' || mod::text as k, format_type(oid, mod) as name from unnest($1::oid[], $2::int[]) as t(oid, mod)",
    [pairs.map((f) => f.dataTypeID), pairs.map((f) => f.dataTypeModifier)],
  );
  return new Map(r.rows.map((row) => [row.k, row.name]));
}

function failure(endpoint: PgEndpoint, err: unknown, statement: Statement, what: string, yamlPath?: string) {
  return pgFailure(err, { display: endpoint.display, phase: 'check', what: `${what} on ${endpoint.display}`, statement, yamlPath });
}
