// The bench input: `id` and 30 float features f0..f29 drawn from N(0, 1), written with 6 significant digits
// like the peer's gen_rows.py (pandas float_format="%.6g"): about 282 bytes a row. The same rows as JSON Lines
// for the JSON Lines readers: about 420 bytes a row.
import { createReadStream, createWriteStream, existsSync, renameSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { formatFloat } from '../src/io/format.js';
import { normal } from './random.js';

export const FEATURES = 30;

// Write `rows` rows to `file` (kept if it is already there with the same row count in its name).
export async function ensureRows(file: string, rows: number): Promise<void> {
  if (existsSync(file) && statSync(file).size > 0) return;
  const rnd = normal(0);
  await writeLines(file, (function* () {
    yield `id,${Array.from({ length: FEATURES }, (_, i) => `f${i}`).join(',')}\n`;
    for (let r = 0; r < rows; r++) {
      let line = String(r);
      for (let f = 0; f < FEATURES; f++) line += `,${formatFloat(Math.fround(rnd()), 6)}`;
      yield `${line}\n`;
    }
  })());
}

// Write the rows of the CSV `csvFile` to `file` as JSON Lines, one object a row with the CSV's names as keys
// and its cells as JSON numbers, as written (kept if it is already there).
export async function ensureJsonl(csvFile: string, file: string): Promise<void> {
  if (existsSync(file) && statSync(file).size > 0) return;
  await writeLines(file, (async function* () {
    let keys: string[] | undefined;
    for await (const line of createInterface({ input: createReadStream(csvFile), crlfDelay: Infinity })) {
      const cells = line.split(',');
      if (!keys) {
        keys = cells.map((name) => `"${name}":`);
        continue;
      }
      let row = '{';
      for (let i = 0; i < cells.length; i++) row += `${i === 0 ? '' : ','}${keys[i]}${cells[i]}`;
      yield `${row}}\n`;
    }
  })());
}

// `lines` into `file`, written 1 MB at a time under a temporary name that becomes `file` at the end.
async function writeLines(file: string, lines: Iterable<string> | AsyncIterable<string>): Promise<void> {
  const temp = `${file}.partial`;
  const out = createWriteStream(temp);
  let buf = '';
  for await (const line of lines) {
    buf += line;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  renameSync(temp, file);
}
