// SQL text serve-batch builds around the user's query and names: identifiers are always quoted, values are
// always bound parameters, so no name or value from a job or a database can change what a statement does.
import { SbError } from '../../errors.js';
import type { QueryShard, Watermark } from '../types.js';

/** A statement with the user's query inside it, and where that query starts (to place the server's error positions). */
export interface Statement {
  text: string;
  values: string[];
  /** Offset of the user's query in `text` (characters), and its length. */
  queryStart: number;
  queryLength: number;
  query: string;
}

// "name" with embedded quotes doubled: any string is a safe identifier this way (NUL is refused).
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new SbError('DB_INVALID', `the name ${JSON.stringify(name)} holds a NUL character`);
  return `"${name.replace(/"/g, '""')}"`;
}

/** A table name split as PostgreSQL reads it. */
export interface TableName {
  schema?: string;
  name: string;
  /** As the job wrote it. */
  display: string;
  /** Quoted for SQL: "schema"."name". */
  sql: string;
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_$]*$/;

// `table`, `schema.table`, with "Quoted"."Parts" kept as written and unquoted parts folded to lower case, as
// PostgreSQL itself reads a name in SQL (so `Analytics.Scores` is the table `analytics.scores`).
export function parseTableName(raw: string, yamlPath?: string): TableName {
  const parts: string[] = [];
  let i = 0;
  const bad = (why: string) =>
    new SbError('DB_INVALID', `table name '${raw}' ${why}: write it as table or schema.table, quoting a part that holds other characters than letters, digits and _ ("My Table")`, yamlPath ? { yamlPath } : {});
  while (i <= raw.length) {
    if (raw[i] === '"') {
      let part = '';
      i++;
      for (;;) {
        if (i >= raw.length) throw bad('has an unclosed quote');
        if (raw[i] === '"') {
          if (raw[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += raw[i++];
      }
      if (part === '') throw bad('has an empty part');
      parts.push(part);
    } else {
      const end = raw.indexOf('.', i) === -1 ? raw.length : raw.indexOf('.', i);
      const part = raw.slice(i, end).trim();
      if (!PLAIN.test(part)) throw bad(part === '' ? 'has an empty part' : `has a part that needs quotes ('${part}')`);
      parts.push(part.toLowerCase());
      i = end;
    }
    if (i === raw.length) break;
    if (raw[i] !== '.') throw bad('has text after a quoted part');
    i++;
  }
  if (parts.length > 2) throw bad('has more than two parts');
  const [schema, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  return { schema, name, display: raw, sql: schema === undefined ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}` };
}

// The query without trailing semicolons and spaces: it is placed inside a statement of serve-batch's.
function bareQuery(query: string): string {
  return query.replace(/[\s;]+$/, '');
}

// The statement that reads a query: the query as it is (its own ORDER BY holds), or — with a watermark or a
// shard — wrapped as a subquery that filters on its result columns, ordered by the watermark so the largest
// value read is the last one. The watermark is the bound parameter $1; rows where it is NULL cannot be
// placed in that order and are never read.
export function readStatement(query: string, o: { watermark?: Watermark; shard?: QueryShard; limit0?: boolean } = {}): Statement {
  const q = bareQuery(query);
  if (!o.watermark && !o.shard && !o.limit0) return { text: q, values: [], queryStart: 0, queryLength: q.length, query: q };
  // The line breaks keep a `--` comment on the query's last line from swallowing the closing parenthesis.
  const head = 'select * from (\n';
  const where: string[] = [];
  const values: string[] = [];
  if (o.watermark) {
    const col = `q.${quoteIdent(o.watermark.column)}`;
    if (o.watermark.after === undefined) where.push(`${col} is not null`);
    else {
      values.push(o.watermark.after);
      where.push(`${col} > $${values.length}`);
    }
  }
  if (o.shard) {
    values.push(String(o.shard.count), String(o.shard.index));
    // hashtext is int4; shifted to 0 … 2^32-1 so every row has exactly one shard in [0, count).
    where.push(`mod(hashtext(q.${quoteIdent(o.shard.column)}::text)::bigint + 2147483648, $${values.length - 1}::bigint) = $${values.length}::bigint`);
  }
  let tail = '\n) as q';
  if (where.length > 0) tail += ` where ${where.join(' and ')}`;
  if (o.watermark && !o.limit0) tail += ` order by q.${quoteIdent(o.watermark.column)}`;
  if (o.limit0) tail += ' limit 0';
  return { text: head + q + tail, values, queryStart: head.length, queryLength: q.length, query: q };
}

// EXPLAIN of the statement a read would run.
export function explainStatement(s: Statement): Statement {
  const head = 'explain ';
  return { ...s, text: head + s.text, queryStart: s.queryStart + head.length };
}
