// The bench input: `id` and 30 float features f0..f29 drawn from N(0, 1), written with 6 significant digits
// like the peer's gen_rows.py (pandas float_format="%.6g"): about 282 bytes a row.
import { createWriteStream, existsSync, renameSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { formatFloat } from '../src/io/format.js';
import { normal } from './random.js';

export const FEATURES = 30;

// Write `rows` rows to `file` (kept if it is already there with the same row count in its name).
export async function ensureRows(file: string, rows: number): Promise<void> {
  if (existsSync(file) && statSync(file).size > 0) return;
  const temp = `${file}.partial`;
  const out = createWriteStream(temp);
  const rnd = normal(0);
  out.write(`id,${Array.from({ length: FEATURES }, (_, i) => `f${i}`).join(',')}\n`);
  let buf = '';
  for (let r = 0; r < rows; r++) {
    let line = String(r);
    for (let f = 0; f < FEATURES; f++) line += `,${formatFloat(Math.fround(rnd()), 6)}`;
    buf += `${line}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  renameSync(temp, file);
}
