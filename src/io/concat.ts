// Reading text result files back, record by record, for `merge` (run/merge.ts), as their bytes: CSV/TSV
// records end at a line break outside quotes (the writers quote every field holding a quote or a line break),
// JSON Lines at every line break. Nothing is parsed into values and written again. (Parquet results are read
// back by the Parquet reader: parquet/results.ts.)
import { SbError } from '../errors.js';
import { displayPath } from '../util/display.js';
import { openSource } from '../storage/source.js';
import { inputBlocks } from './input-blocks.js';

const LF = 10;
const QUOTE = 34;

// The records of a CSV/TSV or JSON Lines result file (gzipped or not), copied out as bytes.
export class TextRows {
  private readonly blocks: AsyncIterator<Uint8Array>;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private inQuote = false;
  private ended = false;

  constructor(
    private readonly file: string,
    private readonly quoted: boolean,
  ) {
    this.blocks = inputBlocks(openSource(file, displayPath(file))).blocks[Symbol.asyncIterator]();
  }

  // The next record's bytes (the header line of a CSV result), line break included; empty at the end.
  async record(): Promise<Buffer> {
    const parts: Buffer[] = [];
    await this.copy(1, async (b) => void parts.push(Buffer.from(b)), true);
    return Buffer.concat(parts);
  }

  // Copy the next `rows` records to `out`; fails when the file ends first.
  async copy(rows: number, out: (bytes: Buffer) => Promise<void>, allowShort = false): Promise<void> {
    let left = rows;
    while (left > 0) {
      if (this.pos >= this.buf.length && !(await this.more())) {
        if (allowShort) return;
        throw new SbError('RECONCILE', `the shard result ${displayPath(this.file)} holds fewer rows than its run record says (${left} missing)`);
      }
      const start = this.pos;
      left -= this.quoted ? this.scanCsv(left) : this.scanLines(left);
      await out(this.buf.subarray(start, this.pos));
    }
  }

  // True when no bytes are left.
  async atEnd(): Promise<boolean> {
    return this.pos >= this.buf.length && !(await this.more());
  }

  // Stop reading (the file is closed).
  async close(): Promise<void> {
    this.ended = true;
    await this.blocks.return?.(undefined);
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.blocks.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.buf = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.pos = 0;
    return this.buf.length > 0 || this.more();
  }

  // Advance over up to `want` lines of the current block; returns how many ended.
  private scanLines(want: number): number {
    let n = 0;
    while (n < want) {
      const lf = this.buf.indexOf(LF, this.pos);
      if (lf === -1) {
        this.pos = this.buf.length;
        break;
      }
      this.pos = lf + 1;
      n++;
    }
    return n;
  }

  // Advance over up to `want` CSV records of the current block (a line break inside quotes does not end one;
  // a doubled quote closes and reopens, which leaves the state as it was).
  private scanCsv(want: number): number {
    const buf = this.buf;
    let n = 0;
    let i = this.pos;
    let nextQuote = -2;
    while (n < want && i < buf.length) {
      if (this.inQuote) {
        const close = buf.indexOf(QUOTE, i);
        if (close === -1) {
          i = buf.length;
          break;
        }
        this.inQuote = false;
        i = close + 1;
        continue;
      }
      if (nextQuote !== -1 && nextQuote < i) nextQuote = buf.indexOf(QUOTE, i);
      const lf = buf.indexOf(LF, i);
      if (nextQuote !== -1 && (lf === -1 || nextQuote < lf)) {
        this.inQuote = true;
        i = nextQuote + 1;
        continue;
      }
      if (lf === -1) {
        i = buf.length;
        break;
      }
      i = lf + 1;
      n++;
    }
    this.pos = i;
    return n;
  }
}
