// PostgreSQL values → chunk cells. Rows arrive as PostgreSQL's own text for each value (every type parser is
// the identity for serve-batch's queries, so no digit is lost on the way: int8 and numeric keep all of
// theirs), in a session set to ISO dates, UTC and shortest-exact floats. What each text means is decided here
// once per column, from the column's type (the OID in the result's row description; a domain arrives as its
// base type). The table (README "Databases"):
//
//   PostgreSQL type                      numeric input                    int64, bool, string input, passthrough
//   int2, int4, oid                      that number                      its digits
//   int8                                 the nearest double               exact digits (an int64 input reads them exactly)
//   numeric                              the nearest double; NaN missing  its text as stored (`1.50`, every digit)
//   float4, float8                       that number; NaN missing         shortest text that reads back the same value; ±Infinity `inf`/`-inf`
//   text, varchar, char, name            read as CSV text                 the string
//   bool                                 1 / 0                            `true` / `false`
//   date                                 not a number (row rejected)      `2001-01-14`
//   timestamp                            not a number                     `2001-01-14T21:55:00`, `.500000` when there is a fraction
//   timestamptz                          not a number                     the same in UTC, with `Z`
//   json, jsonb                          not a number                     its text
//   any other (uuid, interval, arrays…)  read as CSV text                 PostgreSQL's text for it
//   NULL                                 missing (features.missing)       empty
import type { ChunkBuilder } from '../../table/builder.js';
import type { ValueKind } from '../types.js';

const KIND_BY_OID = new Map<number, ValueKind>([
  [21, 'integer'], // int2
  [23, 'integer'], // int4
  [26, 'integer'], // oid
  [20, 'integer'], // int8
  [700, 'float'], // float4
  [701, 'float'], // float8
  [1700, 'decimal'], // numeric
  [25, 'text'], // text
  [1043, 'text'], // varchar
  [1042, 'text'], // bpchar
  [18, 'text'], // "char"
  [19, 'text'], // name
  [16, 'bool'],
  [1082, 'date'],
  [1114, 'timestamp'],
  [1184, 'timestamp'], // timestamptz
  [114, 'json'],
  [3802, 'json'], // jsonb
]);

// How a column of this type is read.
export function kindOf(oid: number): ValueKind {
  return KIND_BY_OID.get(oid) ?? 'other';
}

/** Writes one non-NULL value's text into field f of row i. */
export type CellWriter = (rows: ChunkBuilder, f: number, i: number, s: string) => void;

// A float or numeric text: NaN is missing, the infinities are numbers, the rest keeps its text.
const numberCell: CellWriter = (rows, f, i, s) => {
  if (s === 'NaN') rows.missing(f, i);
  else if (s === 'Infinity' || s === '-Infinity') rows.number(f, i, s === 'Infinity' ? Infinity : -Infinity);
  else rows.number(f, i, Number(s), s);
};

const CELL: Record<ValueKind, CellWriter> = {
  integer: (rows, f, i, s) => rows.integer(f, i, Number(s), () => s),
  float: numberCell,
  decimal: numberCell,
  text: (rows, f, i, s) => rows.text(f, i, s),
  bool: (rows, f, i, s) => rows.bool(f, i, s === 't'),
  date: (rows, f, i, s) => rows.other(f, i, isoDate(s)),
  timestamp: (rows, f, i, s) => rows.other(f, i, isoTimestamp(s)),
  json: (rows, f, i, s) => rows.other(f, i, s),
  other: (rows, f, i, s) => rows.text(f, i, s),
};

// The cell writer for a kind of column.
export function cellWriter(kind: ValueKind): CellWriter {
  return CELL[kind];
}

// A value as the chunk shows it as text (rejected rows, messages): what its text cell would hold.
export function cellText(kind: ValueKind, s: string | null): string {
  if (s === null) return '';
  switch (kind) {
    case 'float':
    case 'decimal':
      return s === 'NaN' ? '' : s === 'Infinity' ? 'inf' : s === '-Infinity' ? '-inf' : s;
    case 'bool':
      return s === 't' ? 'true' : 'false';
    case 'date':
      return isoDate(s);
    case 'timestamp':
      return isoTimestamp(s);
    default:
      return s;
  }
}

const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?([+-]\d\d(?::\d\d){0,2})?( BC)?$/;
const DATE = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/;

// PostgreSQL's ISO timestamp text (`2001-01-14 21:55:00.5+00`) as ISO 8601 (`2001-01-14T21:55:00.500000Z`):
// microseconds written out when there is a fraction (as a Parquet MICROS timestamp is), UTC as `Z`, other
// offsets as ±hh:mm, years BC as ISO's astronomical years (1 BC is 0000). `infinity` stays as it is.
export function isoTimestamp(s: string): string {
  const m = TIMESTAMP.exec(s);
  if (!m) return s;
  const [, y, mo, d, hms, frac, zone, bc] = m;
  return `${isoYear(y, bc)}-${mo}-${d}T${hms}${frac ? `.${frac.padEnd(6, '0')}` : ''}${zoneText(zone)}`;
}

// PostgreSQL's ISO date text as ISO 8601.
export function isoDate(s: string): string {
  const m = DATE.exec(s);
  return m ? `${isoYear(m[1], m[4])}-${m[2]}-${m[3]}` : s;
}

function isoYear(y: string, bc: string | undefined): string {
  if (!bc) return y.length > 4 ? `+${y}` : y;
  const n = Number(y) - 1;
  return n === 0 ? '0000' : `-${String(n).padStart(4, '0')}`;
}

function zoneText(zone: string | undefined): string {
  if (zone === undefined) return '';
  if (/^[+-]00(?::00){0,2}$/.test(zone)) return 'Z';
  return zone.length === 3 ? `${zone}:00` : zone;
}
