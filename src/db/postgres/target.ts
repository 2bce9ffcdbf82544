// The target table of a result: what it is (from the catalog), whether the result fits it and the connected
// user may write it in the job's mode — every problem found at once, for `validate` and before a run writes
// anything — and the SQL that creates it and its staging table.
import type pg from 'pg';
import type { FieldType } from '../../table/result.js';
import { didYouMean } from '../../util/suggest.js';
import { shownNames } from '../../util/quote.js';
import type { TableWriteOptions } from '../types.js';
import { quoteIdent, type TableName } from './sql.js';

interface TargetColumnInfo {
  name: string;
  /** format_type: `double precision`, `character varying(20)`, a domain's name. */
  type: string;
  /** pg_type.typcategory: N numeric, S string, B boolean, D date/time, U user-defined, … */
  category: string;
  notNull: boolean;
  hasDefault: boolean;
  /** Generated (stored) or GENERATED ALWAYS AS IDENTITY: the result cannot write it. */
  generated: boolean;
}

interface TableInfo {
  kind: string;
  columns: TargetColumnInfo[];
  /** Column sets of unique indexes without predicate or expressions (what ON CONFLICT can name). */
  uniqueKeys: string[][];
  can: { insert: boolean; update: boolean; truncate: boolean; select: boolean };
}

export interface TargetInfo {
  /** Undefined when the table does not exist. */
  table?: TableInfo;
  /** The schema a new table would go to, whether it exists and the user may create tables in it. */
  schema: { name: string | null; exists: boolean; canCreate: boolean };
  canTemp: boolean;
  database: string;
}

/** PostgreSQL types for result columns of a table serve-batch creates. */
const SQL_TYPES: Record<FieldType, string> = {
  float32: 'real',
  float64: 'double precision',
  int32: 'integer',
  int64: 'bigint',
  uint64: 'numeric(20,0)',
  bool: 'boolean',
  string: 'text',
};

// Type categories a result column of each type can be written into (as COPY text, converted by the server).
const FITS: Record<FieldType, string> = {
  float32: 'NS',
  float64: 'NS',
  int32: 'NS',
  int64: 'NS',
  uint64: 'NS',
  bool: 'BS',
  string: '', // any: a passthrough column holds whatever text its source had
};

const KIND_NAMES: Record<string, string> = { v: 'a view', m: 'a materialized view', f: 'a foreign table', S: 'a sequence', i: 'an index', c: 'a composite type', t: 'a TOAST table' };

// Everything the catalog says about a target table and the rights of the connected user.
export async function inspectTarget(client: pg.Client, name: TableName): Promise<TargetInfo> {
  const found = await client.query<{ oid: number | null; schema: string | null; db: string; temp: boolean }>(
    "select to_regclass($1)::oid as oid, coalesce($2, current_schema()) as schema, current_database() as db, has_database_privilege(current_database(), 'TEMP') as temp",
    [name.sql, name.schema ?? null],
  );
  const { oid, db, temp } = found.rows[0];
  let schemaName = found.rows[0].schema;
  let table: TableInfo | undefined;
  if (oid !== null) {
    const rel = await client.query<{ kind: string; schema: string; ins: boolean; upd: boolean; trunc: boolean; sel: boolean }>(
      `select c.relkind as kind, n.nspname as schema, has_table_privilege(c.oid, 'INSERT') as ins, has_table_privilege(c.oid, 'UPDATE') as upd,
              has_table_privilege(c.oid, 'TRUNCATE') as trunc, has_table_privilege(c.oid, 'SELECT') as sel
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = $1`,
      [oid],
    );
    const cols = await client.query<{ name: string; type: string; category: string; not_null: boolean; has_default: boolean; generated: boolean }>(
      `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, t.typcategory as category, a.attnotnull as not_null,
              a.atthasdef or a.attidentity <> '' as has_default, a.attgenerated <> '' or a.attidentity = 'a' as generated
       from pg_attribute a join pg_type t on t.oid = a.atttypid
       where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped order by a.attnum`,
      [oid],
    );
    const keys = await client.query<{ cols: string[] }>(
      `select to_json(array(select a.attname from unnest(i.indkey) with ordinality k(attnum, ord)
                             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.ord)) as cols
       from pg_index i where i.indrelid = $1 and i.indisunique and i.indpred is null and i.indexprs is null`,
      [oid],
    );
    const r = rel.rows[0];
    schemaName = r.schema;
    table = {
      kind: r.kind,
      columns: cols.rows.map((c) => ({ name: c.name, type: c.type, category: c.category, notNull: c.not_null, hasDefault: c.has_default, generated: c.generated })),
      uniqueKeys: keys.rows.map((k) => k.cols),
      can: { insert: r.ins, update: r.upd, truncate: r.trunc, select: r.sel },
    };
  }
  const schema = { name: schemaName, exists: false, canCreate: false };
  if (schemaName !== null) {
    const s = await client.query<{ can: boolean }>("select has_schema_privilege(n.oid, 'CREATE') as can from pg_namespace n where n.nspname = $1", [schemaName]);
    schema.exists = s.rows.length > 0;
    schema.canCreate = s.rows[0]?.can ?? false;
  }
  return { table, schema, canTemp: temp, database: db };
}

// Every reason the result cannot be written into the target as the options say, one line each.
export function targetProblems(name: TableName, t: TargetInfo, o: TableWriteOptions, user: string): string[] {
  const problems: string[] = [];
  const names = o.columns.map((c) => c.name);
  const grant = (what: string, on: string) => `(GRANT ${what} ON ${on} TO ${quoteIdent(user)})`;
  if (o.mode === 'upsert' && (!o.key || o.key.length === 0)) problems.push('mode upsert needs key: the columns that identify a row');
  for (const k of o.key ?? []) if (!names.includes(k)) problems.push(`key column '${k}' is not a column of the result${didYouMean(k, names)} (columns: ${shownNames(names)})`);
  if (o.runId && names.includes(o.runId.column)) problems.push(`run_id_column '${o.runId.column}' is also a column of the result: name it differently`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) problems.push(`the result has two columns named '${dup}'`);
  if (!t.canTemp) problems.push(`user ${user} may not create temporary tables in database ${t.database}, where serve-batch stages the rows before moving them in one transaction ${grant('TEMPORARY', `DATABASE ${quoteIdent(t.database)}`)}`);
  if (!t.table) {
    if (!o.create) problems.push(`table ${name.display} does not exist (create: true creates it from the result's columns)`);
    else if (t.schema.name === null) problems.push(`table ${name.display} cannot be created: no schema is on the search_path (name the schema: schema.table)`);
    else if (!t.schema.exists) problems.push(`table ${name.display} cannot be created: schema ${t.schema.name} does not exist`);
    else if (!t.schema.canCreate) problems.push(`table ${name.display} cannot be created: user ${user} may not create tables in schema ${t.schema.name} ${grant('CREATE', `SCHEMA ${quoteIdent(t.schema.name)}`)}`);
    return problems;
  }
  const table = t.table;
  if (table.kind !== 'r' && table.kind !== 'p') {
    problems.push(`${name.display} is ${KIND_NAMES[table.kind] ?? 'not a table'}; serve-batch writes tables`);
    return problems;
  }
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const all = table.columns.map((c) => c.name);
  for (const c of o.columns) {
    const col = byName.get(c.name);
    if (!col) problems.push(`table ${name.display} has no column '${c.name}'${didYouMean(c.name, all)} (columns: ${shownNames(all)})`);
    else if (col.generated) problems.push(`column '${c.name}' of ${name.display} is generated by the database; the result cannot write it`);
    else if (FITS[c.type] && !FITS[c.type].includes(col.category)) problems.push(`column '${c.name}' of ${name.display} is ${col.type}, which cannot hold the result's ${c.type} values`);
  }
  if (o.runId) {
    const col = byName.get(o.runId.column);
    if (!col) problems.push(`table ${name.display} has no column '${o.runId.column}' for run_id_column${didYouMean(o.runId.column, all)}`);
    else if (col.category !== 'S') problems.push(`run_id_column '${o.runId.column}' of ${name.display} is ${col.type}; run ids are text`);
  }
  const written = new Set([...names, ...(o.runId ? [o.runId.column] : [])]);
  for (const c of table.columns) {
    if (c.notNull && !c.hasDefault && !c.generated && !written.has(c.name)) problems.push(`column '${c.name}' of ${name.display} is NOT NULL without a default, and the result does not write it`);
  }
  if (o.mode === 'upsert' && o.key && o.key.length > 0) {
    const want = [...o.key].sort().join('\0');
    if (!table.uniqueKeys.some((k) => [...k].sort().join('\0') === want)) {
      const has = table.uniqueKeys.length === 0 ? 'it has none' : `it has ${table.uniqueKeys.map((k) => `(${k.join(', ')})`).join(', ')}`;
      problems.push(`mode upsert needs a primary key or unique index on exactly (${o.key.join(', ')}) of ${name.display}; ${has}`);
    }
  }
  const on = `TABLE ${name.sql}`;
  if (!table.can.insert) problems.push(`user ${user} may not insert into ${name.display} ${grant('INSERT', on)}`);
  if (o.mode === 'replace' && !table.can.truncate) problems.push(`user ${user} may not truncate ${name.display}, which mode replace does ${grant('TRUNCATE', on)}`);
  if (o.mode === 'upsert' && !table.can.update) problems.push(`user ${user} may not update ${name.display}, which mode upsert does ${grant('UPDATE', on)}`);
  if (o.mode === 'upsert' && !table.can.select) problems.push(`user ${user} may not select from ${name.display}, which mode upsert needs to find existing keys ${grant('SELECT', on)}`);
  return problems;
}

// Each result column's type in the target: the existing column's, or the one a created table gets.
export function columnTypes(t: TargetInfo, o: TableWriteOptions): { type: string; emptyIsNull: boolean }[] {
  const byName = new Map((t.table?.columns ?? []).map((c) => [c.name, c]));
  return o.columns.map((c) => {
    const col = byName.get(c.name);
    if (col) return { type: col.type, emptyIsNull: col.category !== 'S' };
    const type = c.sqlType ?? SQL_TYPES[c.type];
    return { type, emptyIsNull: !/^(text|character|varchar|char|bpchar|name|citext)\b/i.test(type) };
  });
}

// CREATE TABLE for the result's columns (and the run id column; the key as primary key for upsert).
export function createTableSql(name: TableName, o: TableWriteOptions, types: { type: string }[]): string {
  const cols = o.columns.map((c, k) => `${quoteIdent(c.name)} ${safeType(types[k].type)}`);
  if (o.runId) cols.push(`${quoteIdent(o.runId.column)} text`);
  if (o.mode === 'upsert' && o.key && o.key.length > 0) cols.push(`primary key (${o.key.map(quoteIdent).join(', ')})`);
  return `create table if not exists ${name.sql} (${cols.join(', ')})`;
}

export const STAGING = 'serve_batch_staging';
export const ROW = 'serve-batch row';

// The session's staging table: the row number, then the result's columns typed as in the target.
export function stagingSql(o: TableWriteOptions, types: { type: string }[]): string {
  const cols = o.columns.map((c, k) => `${quoteIdent(c.name)} ${safeType(types[k].type)}`);
  return `create temporary table ${STAGING} (${quoteIdent(ROW)} bigint, ${cols.join(', ')})`;
}

// A type name from the catalog (format_type) or from a source column's description: only the characters
// type names have, so it cannot end the statement it goes in.
function safeType(type: string): string {
  if (!/^[\w ."(),[\]]+$/.test(type) || /--/.test(type)) throw new Error(`unexpected column type ${JSON.stringify(type)}`);
  return type;
}
