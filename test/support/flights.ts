// vega-datasets' flights-3m.parquet: a real third-party Parquet file (Polars, ZSTD, 3,000,000 rows in 11 row
// groups; columns date (timestamp), delay, distance (int64), origin, destination (string)).
import { createRequire } from 'node:module';
import path from 'node:path';

// The package exports only its build, so its folder is found from the main entry (build/index.js).
export const FLIGHTS = path.join(path.dirname(path.dirname(createRequire(import.meta.url).resolve('vega-datasets'))), 'data/flights-3m.parquet');
