// A process that writes a result into a PostgreSQL table with serve-batch's built table writer, for tests that
// kill it (kill -9) in the middle. Argument: JSON { url, app, table, mode, key?, create?, chunks, rows }.
// Writes `chunks` chunks of `rows` rows (ids counting from 1, p = id / 1000), then commits; says on standard
// output when it writes, commits and has committed.
import { openDatabase } from '../../dist/src/db/postgres/index.js';

const o = JSON.parse(process.argv[2]);
const columns = [
  { name: 'id', type: 'string', sqlType: 'bigint' },
  { name: 'p', type: 'float64' },
];
const db = openDatabase(o.url, { applicationName: o.app });
const writer = await db.openTableWriter({ table: o.table, mode: o.mode, key: o.key, create: o.create, columns });
let next = 1;
for (let c = 0; c < o.chunks; c++) {
  const ids = Array.from({ length: o.rows }, (_, i) => String(next + i));
  const p = Float64Array.from(ids, (id) => Number(id) / 1000);
  next += o.rows;
  process.stdout.write(`writing ${c + 1}\n`);
  await writer.write({ rows: o.rows, columns: [{ name: 'id', kind: 'text', values: ids }, { name: 'p', kind: 'float', values: p, stride: 1, offset: 0 }] });
}
process.stdout.write('committing\n');
await writer.commit();
process.stdout.write('committed\n');
