// The Parquet reader, for the rest of serve-batch: a run's input (readParquet), `merge`'s shard results
// (openParquetResult), `init`'s column listing and shard planning's row groups, all over ParquetBytes (a
// ByteSource with random access).
export { parquetBuffer, parquetBytes, parquetFile, type ParquetBytes } from './bytes.js';
export { parquetColumns, parquetRowGroups } from './listing.js';
export { readParquet, type ParquetInput } from './read.js';
export { openParquetResult, type ParquetResult } from './results.js';
