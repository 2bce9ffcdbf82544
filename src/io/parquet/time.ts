// Parquet timestamps and dates as ISO 8601 text (`2001-01-14T21:55:00`, with `Z` when the file says the
// time is UTC; `2001-01-14`), made here from the raw integers: hyparquet would make a Date per value.
import type { ParquetParsers, SchemaElement } from 'hyparquet';
import { DEFAULT_PARSERS } from './hyparquet.js';

/** INT64 timestamps and INT32 dates, turned into text by this module. */
export type TimeKind = { kind: 'time'; perSecond: number; digits: number; utc: boolean } | { kind: 'date' };

/** Decoded INT64 timestamps, with their 32-bit halves (read without making a BigInt per value). */
export interface TimeValues {
  values: BigInt64Array;
  words: Int32Array;
  perSecond: number;
  digits: number;
  utc: boolean;
}

// How a column's values are turned into text here, if they are timestamps or dates.
export function timeKindOf(element: SchemaElement): TimeKind | undefined {
  const lt = element.logical_type;
  const ct = element.converted_type;
  if (element.type === 'INT64') {
    if (lt?.type === 'TIMESTAMP') {
      const [perSecond, digits] = lt.unit === 'MILLIS' ? [1e3, 3] : lt.unit === 'MICROS' ? [1e6, 6] : [1e9, 9];
      return { kind: 'time', perSecond, digits, utc: lt.isAdjustedToUTC };
    }
    // Legacy TIMESTAMP_MILLIS/MICROS are UTC by the format's definition.
    if (ct === 'TIMESTAMP_MILLIS') return { kind: 'time', perSecond: 1e3, digits: 3, utc: true };
    if (ct === 'TIMESTAMP_MICROS') return { kind: 'time', perSecond: 1e6, digits: 6, utc: true };
  }
  if (element.type === 'INT32' && (lt?.type === 'DATE' || ct === 'DATE')) return { kind: 'date' };
  return undefined;
}

// For the types left to hyparquet's conversion: INT96 timestamps as ISO text without a zone (as pandas
// reads them), JSON as its text; the rest as hyparquet decodes them.
export function textParsers(): ParquetParsers {
  const bigIso = (v: bigint, per: bigint, digits: number) => {
    let seconds = v / per;
    let fraction = v % per;
    if (fraction < 0n) {
      fraction += per;
      seconds -= 1n;
    }
    return isoText(Number(seconds), Number(fraction), digits, false);
  };
  return {
    ...DEFAULT_PARSERS,
    timestampFromMilliseconds: (v: bigint) => bigIso(BigInt(v), 1000n, 3),
    timestampFromMicroseconds: (v: bigint) => bigIso(BigInt(v), 1000000n, 6),
    timestampFromNanoseconds: (v: bigint) => bigIso(BigInt(v), 1000000000n, 9),
    dateFromDays: (days: number) => dateText(days),
    jsonFromBytes: (b: Uint8Array) => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8') : b),
  };
}

// Value v of decoded timestamps as text (kept in `texts` when given).
export function timeText(store: TimeValues, v: number, texts: string[] | undefined): string {
  const hi = store.words[2 * v + 1];
  const n = hi * 4294967296 + (store.words[2 * v] >>> 0);
  let t: string;
  if (Number.isSafeInteger(n)) {
    const seconds = Math.floor(n / store.perSecond);
    t = isoText(seconds, n - seconds * store.perSecond, store.digits, store.utc);
  } else {
    const big = store.values[v];
    const per = BigInt(store.perSecond);
    let seconds = big / per;
    let fraction = big % per;
    if (fraction < 0n) {
      fraction += per;
      seconds -= 1n;
    }
    t = isoText(Number(seconds), Number(fraction), store.digits, store.utc);
  }
  if (texts) texts[v] = t;
  return t;
}

let lastDay = NaN;
let lastDate = '';

// `2001-01-14T21:55:00` from whole seconds since 1970 and a fraction in units of 10^-digits s (shown only
// when not zero), with `Z` when the file says the time is UTC.
function isoText(seconds: number, fraction: number, digits: number, utc: boolean): string {
  const day = Math.floor(seconds / 86400);
  if (day !== lastDay) {
    lastDate = dateText(day);
    lastDay = day;
  }
  const s = seconds - day * 86400;
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s - hh * 3600) / 60);
  const ss = s - hh * 3600 - mm * 60;
  const frac = fraction === 0 ? '' : `.${String(fraction).padStart(digits, '0')}`;
  return `${lastDate}T${hh < 10 ? '0' : ''}${hh}:${mm < 10 ? '0' : ''}${mm}:${ss < 10 ? '0' : ''}${ss}${frac}${utc ? 'Z' : ''}`;
}

// `2001-01-14` from days since 1970 (outside the years Date can show: the number of days).
export function dateText(days: number): string {
  const ms = days * 86400000;
  if (!(Math.abs(ms) <= 8.64e15)) return String(days);
  const iso = new Date(ms).toISOString();
  return iso.slice(0, iso.indexOf('T'));
}
