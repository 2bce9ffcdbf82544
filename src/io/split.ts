// Where a file can be cut for a shard plan (run/shards.ts), found by reading it: the line starts of CSV
// without quote characters and of JSON Lines, the row-group starts of Parquet; gzip and quoted CSV are read
// whole. A piece that starts mid-file needs what a reader would have learnt from the lines before it: the
// physical line number there (so rejects keep their `_line`) and, for CSV, the header (the file's first
// record), both found here.
//
// CSV is cut only when the file holds no quote character at all: a quoted field may hold a line break, and
// only a parse from the start can tell whether a given line break is inside one. That makes planning read
// the whole file once (a memchr over its bytes, about a second per GB from the page cache); JSON Lines are
// read up to the last cut only, since a JSON line cannot hold a raw line break.
import { SbError } from '../errors.js';
import type { CsvOptions, TextFormat } from '../job/config.js';
import { openSource, type ByteSource } from '../storage/source.js';
import { displayPath } from '../util/display.js';

const LF = 10;
const CR = 13;
const BLOCK = 1 << 20;

/** Text files smaller than this are not split: planning a cut (a read of the file) costs more than it saves. */
const MIN_SPLIT_BYTES = 1 << 20;

/** Where a piece starts or ends inside a file: a byte offset, and where reading resumes there. */
export interface CutPoint {
  offset: number;
  /** Text: the physical line that starts at `offset` (1-based; a file's first line is 1). */
  line?: number;
  /** Parquet: the row group that starts at `offset`, and the rows before it. */
  group?: number;
  row?: number;
}

/** What the plan did with a file that a cut fell into. */
export interface SplitDecision {
  path: string;
  how: 'bytes' | 'row_groups' | 'whole';
  pieces: number;
  reason: string;
}

export interface FileCuts {
  /** One place per wanted offset, in the same order. */
  cuts: CutPoint[];
  decision: SplitDecision;
  /** CSV/TSV: the column names a piece in the middle of the file reads with. */
  header?: string[];
}

// Move each wanted offset (ascending, inside the file) to a place `file` can be cut; text files smaller than
// `minBytes` are not cut.
export async function cutsIn(file: string, bytes: number, format: TextFormat, csv: CsvOptions & { delimiter: string }, wanted: number[], minBytes = MIN_SPLIT_BYTES): Promise<FileCuts> {
  const whole = (reason: string): FileCuts => ({ cuts: wanted.map((o) => snapWhole(bytes, o)), decision: { path: file, how: 'whole', pieces: 1, reason } });
  if (format === 'parquet') {
    const { parquetFile, parquetRowGroups } = await import('./parquet/index.js');
    const { starts, rows } = await parquetRowGroups(await parquetFile(file, displayPath(file)), displayPath(file));
    if (starts.length < 2) return whole(`a Parquet file with ${starts.length === 1 ? 'one row group' : 'no row groups'} is scored by one worker`);
    const cuts = wanted.map((o) => snapRowGroups(starts, rows, bytes, o));
    return { cuts, decision: { path: file, how: 'row_groups', pieces: pieceCount(cuts, bytes), reason: `split at row-group starts (${starts.length} row groups)` } };
  }
  const head = await readHead(openSource(file, displayPath(file)), Math.min(bytes, BLOCK));
  if (head[0] === 0x1f && head[1] === 0x8b) return whole('gzip data can only be read from its start');
  if (bytes < minBytes) return whole(`text files under ${MIN_SPLIT_BYTES / (1 << 20)} MiB are not split`);
  let header: string[] | undefined;
  let dataStart = 0;
  let quote: number | undefined;
  if (format !== 'jsonl') {
    if (csv.quote !== '') {
      const q = Buffer.from(csv.quote, 'latin1');
      if (csv.quote.length !== 1 || q[0] >= 0x80) return whole(`the quote character '${csv.quote}' is not a single ASCII character`);
      quote = q[0];
    }
    const first = firstRecord(head, bytes <= BLOCK, csv.encoding);
    if (!first) return whole('its first line (the header) is longer than 1 MiB');
    if (quote !== undefined && first.text.includes(csv.quote)) return whole(quotedReason(format));
    ({ header, dataStart } = namesOf(first, csv));
  }
  const scan = await scanLines(file, {
    quote,
    loneCr: format !== 'jsonl',
    wanted: wanted.map((o) => Math.max(o, dataStart)),
  });
  if (scan.quoted) return whole(quotedReason(format));
  // A cut past the last line start goes to the end of the file.
  const cuts = scan.cuts.map((c) => (c.offset >= bytes ? { offset: bytes } : c));
  const pieces = pieceCount(cuts, bytes);
  if (pieces === 1) return { ...whole('no line starts where the cuts fall'), header };
  const why = format === 'jsonl' ? 'a JSON line cannot hold a line break' : 'it has no quote characters';
  return { cuts, header, decision: { path: file, how: 'bytes', pieces, reason: `split at line starts (${why})` } };
}

// A cut inside a file that cannot be cut goes to the nearer end of it (the start on a tie below half).
export function snapWhole(bytes: number, offset: number): CutPoint {
  return { offset: offset * 2 < bytes ? 0 : bytes };
}

// A cut inside a Parquet file goes to the nearest row-group start (or end of the file); `starts[g]` is the
// byte offset of row group g and `rows[g]` its row count.
export function snapRowGroups(starts: number[], rows: number[], bytes: number, offset: number): CutPoint {
  let best: CutPoint = { offset: 0, group: 0, row: 0 };
  let bestDistance = offset;
  let row = 0;
  for (let g = 0; g <= starts.length; g++) {
    const at = g === 0 ? 0 : g === starts.length ? bytes : starts[g];
    const d = Math.abs(at - offset);
    if (d < bestDistance) {
      best = { offset: at, group: g, row };
      bestDistance = d;
    }
    row += rows[g] ?? 0;
  }
  return best;
}

// The column names a piece starting mid-file is read with, from the file's first record (quote-free), and
// where its data starts: with a header line, no cut before the first data line.
function namesOf(first: { text: string; end: number }, csv: CsvOptions & { delimiter: string }): { header: string[]; dataStart: number } {
  const fields = first.text.split(csv.delimiter);
  const header = Array.isArray(csv.header) ? csv.header.map(String) : csv.header ? fields : fields.map((_, i) => String(i + 1));
  return { header, dataStart: csv.header === true ? first.end : 0 };
}

function quotedReason(format: TextFormat): string {
  return `${format === 'tsv' ? 'TSV' : 'CSV'} with quote characters is scored by one worker: a quoted field may hold a line break, so a cut could fall inside a row`;
}

// Distinct cut offsets strictly inside the file, plus one.
function pieceCount(cuts: CutPoint[], bytes: number): number {
  return new Set(cuts.map((c) => c.offset).filter((o) => o > 0 && o < bytes)).size + 1;
}

// The first `length` bytes of a file (fewer when it is shorter).
async function readHead(source: ByteSource, length: number): Promise<Buffer> {
  try {
    const parts: Buffer[] = [];
    let n = 0;
    const stream = source.open({ start: 0, end: length });
    for await (const b of stream) {
      parts.push(Buffer.from(b));
      n += b.length;
    }
    return Buffer.concat(parts, n);
  } catch (err) {
    const e = ((err as Error).cause ?? err) as NodeJS.ErrnoException;
    throw new SbError('INPUT_FAILED', `cannot read input to plan the shards: ${e.code === 'ENOENT' ? 'it disappeared' : e.message}`, { file: source.display });
  }
}

// The first non-empty line of `head` (the CSV reader's first record when the file has no quotes), decoded,
// and the offset just past its line break; undefined when `head` ends inside it and there is more file.
export function firstRecord(head: Buffer, wholeFile: boolean, encoding: 'utf8' | 'latin1'): { text: string; end: number } | undefined {
  let pos = encoding === 'utf8' && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (pos < head.length) {
    let end = pos;
    while (end < head.length && head[end] !== LF && head[end] !== CR) end++;
    if (end === head.length && !wholeFile) return undefined;
    const next = head[end] === CR && head[end + 1] === LF ? end + 2 : end + 1;
    if (end > pos) return { text: head.toString(encoding, pos, end), end: Math.min(next, head.length) };
    pos = next;
  }
  return { text: '', end: head.length };
}

export interface LineScan {
  /** A quote character was found (CSV): the file cannot be cut. */
  quoted: boolean;
  /** For each wanted offset: the first line start at or after it (the end of the file when none). */
  cuts: CutPoint[];
}

// One pass over the file: line breaks counted as the readers count them (LF; with `loneCr`, also a CR not
// followed by LF, as CSV does), each wanted offset resolved to the next line start, and (with `quote`) the
// whole file checked for that byte.
export async function scanLines(file: string, o: { quote?: number; loneCr: boolean; wanted: number[] }): Promise<LineScan> {
  const cuts: CutPoint[] = [];
  let w = 0;
  let line = 1;
  let base = 0;
  // A CR ended the previous block: a break, unless this block starts with its LF.
  let pendingCr = false;
  // A line starts at `at` (global offset), numbered `n`: resolve the wanted offsets it satisfies.
  const lineStart = (at: number, n: number) => {
    while (w < o.wanted.length && o.wanted[w] <= at) {
      cuts.push({ offset: at, line: n });
      w++;
    }
  };
  const stream = openSource(file, displayPath(file)).open();
  for await (const bytes of stream) {
    if (w >= o.wanted.length && o.quote === undefined) break;
    const block = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bytesRead = block.length;
    if (o.quote !== undefined && block.indexOf(o.quote) !== -1) return { quoted: true, cuts: [] };
    base += bytesRead;
    // Every cut is placed: only the quote check goes on.
    if (w >= o.wanted.length) continue;
    const blockStart = base - bytesRead;
    let i = 0;
    if (pendingCr) {
      pendingCr = false;
      if (block[0] === LF) i = 1;
      line++;
      lineStart(blockStart + i, line);
    }
    if (o.loneCr && block.indexOf(CR, i) !== -1) {
      for (; i < block.length; i++) {
        const b = block[i];
        if (b === LF) {
          line++;
          lineStart(blockStart + i + 1, line);
        } else if (b === CR) {
          if (i + 1 === block.length) {
            pendingCr = true;
            break;
          }
          if (block[i + 1] === LF) i++;
          line++;
          lineStart(blockStart + i + 1, line);
        }
      }
    } else {
      for (let at = block.indexOf(LF, i); at !== -1; at = block.indexOf(LF, at + 1)) {
        line++;
        if (w < o.wanted.length) lineStart(blockStart + at + 1, line);
      }
    }
  }
  // Past the last line start: the cut goes to the end of the file.
  while (w++ < o.wanted.length) cuts.push({ offset: base });
  return { quoted: false, cuts };
}

/** Where the readers of one text file start: line starts (the first at 0), and the column names a reader
 *  starting mid-file reads with (CSV/TSV). */
export interface ReaderCuts {
  starts: number[];
  header?: string[];
  /** Bytes per line at the start of the file (an estimate of the rows the file holds). */
  lineBytes: number;
}

/** Bytes looked at after a wanted offset for the next line start. */
const LINE_SEARCH_BYTES = 1 << 20;

// Where several readers of one plain text file may start: the first line start after each wanted offset,
// found by reading a little there (not the whole file). A start may still fall inside a quoted CSV field
// that holds a line break: the reader before it finds out (io/table-reader.ts, handoff) and reads on.
// `wanted` may also be a function (maybe async) of the bytes per line (how many readers a file of that many
// rows needs). A string says why the file is read by one reader.
export async function readerCuts(source: ByteSource, bytes: number, format: TextFormat, csv: CsvOptions & { delimiter: string }, wanted: number[] | ((lineBytes: number) => number[] | Promise<number[]>)): Promise<ReaderCuts | string> {
  if (!source.readAt) return 'it can only be read in order';
  const head = Buffer.from(await source.readAt(0, Math.min(bytes, BLOCK)));
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip data can only be read from its start';
  let lines = 0;
  for (let at = head.indexOf(LF); at !== -1; at = head.indexOf(LF, at + 1)) lines++;
  const lineBytes = head.length / Math.max(1, lines);
  let header: string[] | undefined;
  let dataStart = 0;
  if (format !== 'jsonl') {
    const first = firstRecord(head, bytes <= BLOCK, csv.encoding);
    if (!first) return 'its first line (the header) is longer than 1 MiB';
    // The names of a header line with a quote character need a CSV parse: the file's own reader does it.
    if (csv.quote !== '' && first.text.includes(csv.quote)) return 'its first line holds a quote character';
    ({ header, dataStart } = namesOf(first, csv));
  }
  const starts = [0];
  for (const offset of typeof wanted === 'function' ? await wanted(lineBytes) : wanted) {
    const at = await nextLineStart(source, Math.max(offset, dataStart), bytes);
    if (at !== undefined && at > starts[starts.length - 1] && at < bytes) starts.push(at);
  }
  return { starts, header, lineBytes };
}

// The offset just after the first LF at or after `from` (within LINE_SEARCH_BYTES), if any.
async function nextLineStart(source: ByteSource, from: number, bytes: number): Promise<number | undefined> {
  const readAt = source.readAt as NonNullable<ByteSource['readAt']>;
  for (let at = from; at < Math.min(bytes, from + LINE_SEARCH_BYTES); at += 64 * 1024) {
    const window = Buffer.from(await readAt.call(source, at, Math.min(bytes, at + 64 * 1024)));
    const lf = window.indexOf(LF);
    if (lf !== -1) return at + lf + 1;
  }
  return undefined;
}
