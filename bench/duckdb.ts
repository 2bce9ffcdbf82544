// The DuckDB peers of `npm run bench`, each run as a process of its own so that wall, CPU and peak RSS are
// the whole program's (bench/measure.ts):
//
//   node dist/bench/duckdb.js scan <file.csv>
//     DuckDB's read_csv over every column (a sum of each, so no column is skipped), on all cores: the ingest
//     floor, what parsing the file costs when it is done about as well as it can be.
//   node dist/bench/duckdb.js peer <model.onnx> <file.csv> <out.csv>
//     What a performance-minded Node user would write instead of serve-batch: DuckDB reads the CSV into
//     typed arrays, onnxruntime-node scores them in calls of 8192 rows, and DuckDB writes the results with
//     COPY (the id, then each output's columns: `label`, `probabilities_0`, ...).
import { DuckDBDataChunk, DuckDBInstance, type DuckDBConnection, BIGINT, FLOAT, DOUBLE, INTEGER, type DuckDBType, type DuckDBVector } from '@duckdb/node-api';
import * as ort from 'onnxruntime-node';
import { FEATURES } from './data.js';

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const featureNames = Array.from({ length: FEATURES }, (_, i) => `f${i}`);

// Sum every column of the file: DuckDB parses all of them and keeps nothing.
async function scan(conn: DuckDBConnection, file: string): Promise<string> {
  const sums = ['id', ...featureNames].map((c) => `sum(${c})`).join(', ');
  const r = await conn.runAndReadAll(`SELECT count(*), ${sums} FROM read_csv(${sqlString(file)}, header = true)`);
  return String(r.getRows()[0][0]);
}

/** Rows per ONNX Runtime call: what a user would pick (and what serve-batch's chunks default to). */
const CALL = 8192;

interface OutColumn {
  name: string;
  type: DuckDBType;
  sql: string;
  values: number[] | bigint[];
}

// Read, score, write: the whole DuckDB + onnxruntime-node program.
async function peer(conn: DuckDBConnection, modelFile: string, file: string, out: string): Promise<number> {
  const session = await ort.InferenceSession.create(modelFile, { logSeverityLevel: 4 });
  const casts = featureNames.map((c) => `${c}::FLOAT`).join(', ');
  const result = await conn.stream(`SELECT id::BIGINT, ${casts} FROM read_csv(${sqlString(file)}, header = true)`);
  const ids: bigint[] = [];
  let outputs: OutColumn[] | undefined;
  let batch = new Float32Array(CALL * FEATURES);
  let filled = 0;
  const score = async () => {
    const res = await session.run({ input: new ort.Tensor('float32', batch.subarray(0, filled * FEATURES), [filled, FEATURES]) });
    outputs ??= session.outputNames.flatMap((name) => {
      const t = res[name];
      const width = t.dims.length > 1 ? Number(t.dims[1]) : 1;
      const int = t.type === 'int64';
      return Array.from({ length: width }, (_, k) => ({ name: width === 1 ? name : `${name}_${k}`, type: int ? BIGINT : t.type === 'float64' ? DOUBLE : t.type === 'int32' ? INTEGER : FLOAT, sql: int ? 'BIGINT' : t.type === 'float64' ? 'DOUBLE' : t.type === 'int32' ? 'INTEGER' : 'FLOAT', values: [] as number[] | bigint[] }));
    });
    let col = 0;
    for (const name of session.outputNames) {
      const t = res[name];
      const width = t.dims.length > 1 ? Number(t.dims[1]) : 1;
      const data = t.data as ArrayLike<number | bigint>;
      for (let k = 0; k < width; k++, col++) {
        const values = outputs[col].values as (number | bigint)[];
        for (let r = 0; r < filled; r++) values.push(data[r * width + k]);
      }
    }
    filled = 0;
    batch = new Float32Array(CALL * FEATURES);
  };
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const n = chunk.rowCount;
    const idVector = chunk.getColumnVector(0) as DuckDBVector<bigint>;
    const columns = featureNames.map((_, c) => chunk.getColumnVector(c + 1) as DuckDBVector<number>);
    for (let r = 0; r < n; r++) {
      ids.push(idVector.getItem(r) as bigint);
      const base = filled * FEATURES;
      for (let c = 0; c < FEATURES; c++) batch[base + c] = columns[c].getItem(r) ?? NaN;
      if (++filled === CALL) await score();
    }
  }
  if (filled > 0) await score();
  const cols = outputs ?? [];
  await conn.run(`CREATE TABLE results (id BIGINT${cols.map((c) => `, "${c.name}" ${c.sql}`).join('')})`);
  const appender = await conn.createAppender('results');
  const types = [BIGINT, ...cols.map((c) => c.type)];
  for (let start = 0; start < ids.length; start += 2048) {
    const end = Math.min(ids.length, start + 2048);
    const chunk = DuckDBDataChunk.create(types, end - start);
    chunk.setColumns([ids.slice(start, end), ...cols.map((c) => c.values.slice(start, end))]);
    appender.appendDataChunk(chunk);
  }
  appender.closeSync();
  await conn.run(`COPY results TO ${sqlString(out)} (HEADER, DELIMITER ',')`);
  return ids.length;
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  if (mode === 'scan') process.stdout.write(`${await scan(conn, rest[0])}\n`);
  else if (mode === 'peer') process.stdout.write(`${await peer(conn, rest[0], rest[1], rest[2])}\n`);
  else throw new Error('usage: duckdb.js scan <file.csv> | peer <model.onnx> <file.csv> <out.csv>');
  conn.closeSync();
  instance.closeSync();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
