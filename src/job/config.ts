// The normalized job: what every other part of serve-batch reads. Built once from the raw YAML by
// normalizeJob(); paths are absolute, defaults applied, shorthands widened.
import path from 'node:path';
import type { RawJob, RawMissing } from './schema.js';
import { parseDuration } from '../util/duration.js';

export type MissingPolicy = { kind: 'reject' } | { kind: 'nan' } | { kind: 'fill'; value: number };
export type Optimization = 'disabled' | 'basic' | 'extended' | 'all';
/** A table format (the name predates JSON Lines and Parquet). */
export type TextFormat = 'csv' | 'tsv' | 'jsonl' | 'parquet';

export interface CsvOptions {
  /** Undefined: from the format (`,` for csv, tab for tsv). */
  delimiter?: string;
  quote: string;
  /** true: first record names the columns; false: columns are named 1, 2, 3...; a list: these names. */
  header: boolean | string[];
  encoding: 'utf8' | 'latin1';
  relaxQuotes: boolean;
}

export type FeatureMap =
  | { mode: 'columns'; input?: string; columns: string[] }
  | { mode: 'inputs'; inputs: { input: string; column: string }[] };

export type PredictionSpec =
  | { kind: 'output'; output: string; column: string; labels?: string[] }
  | { kind: 'threshold'; output: string; cls: string; at: number; column: string };

export type RejectLimit = { kind: 'count'; count: number } | { kind: 'percent'; percent: number };

export interface ScheduleConfig {
  cron: string;
  timezone: string;
  missed: 'skip' | 'run-once';
  retries: number;
  retryDelayMs: number;
  timeoutMs?: number;
}

export interface JobConfig {
  file: string;
  dir: string;
  name: string;
  model: { path: string; threads?: number; interThreads?: number; optimization: Optimization };
  /** `readers`: reader threads for one large text input (undefined: chosen per input, pipeline/pieces.ts). */
  input: { patterns: string[]; format?: TextFormat; csv: CsvOptions; incremental: boolean; readers?: number };
  features: FeatureMap;
  missing: { default: MissingPolicy; byColumn: Map<string, MissingPolicy> };
  passthrough: string[];
  /** Undefined: every tensor output of the model. */
  predictions?: PredictionSpec[];
  batchSize: number;
  output: { template: string; format?: TextFormat; floatPrecision: number };
  errors: { maxRejected: RejectLimit; rejects?: string };
  schedule?: ScheduleConfig;
  /** Every run of the job fails when it takes longer (`timeout`); undefined: no limit. */
  timeoutMs?: number;
  stateDir: string;
  metricsFile?: string;
}

export const DEFAULT_BATCH_SIZE = 8192;
export const DEFAULT_FLOAT_PRECISION = 6;

// A job-relative path made absolute; `-` (stdin/stdout) is kept as is.
export function resolveJobPath(dir: string, p: string): string {
  return p === '-' ? p : path.resolve(dir, p);
}

function missingPolicy(raw: RawMissing): MissingPolicy {
  if (raw === 'reject') return { kind: 'reject' };
  if (raw === 'nan') return { kind: 'nan' };
  return { kind: 'fill', value: raw };
}

// Raw (schema-checked) job → JobConfig.
export function normalizeJob(raw: RawJob, file: string): JobConfig {
  const dir = path.dirname(file);
  const csv = raw.input.csv ?? {};
  const rawMissing = raw.features.missing ?? 'reject';
  const byColumn = new Map<string, MissingPolicy>();
  let defaultMissing: MissingPolicy = { kind: 'reject' };
  if (typeof rawMissing === 'object') {
    for (const [col, v] of Object.entries(rawMissing)) {
      if (col === 'default') defaultMissing = missingPolicy(v);
      else byColumn.set(col, missingPolicy(v));
    }
  } else {
    defaultMissing = missingPolicy(rawMissing);
  }
  const features: FeatureMap = raw.features.columns
    ? { mode: 'columns', input: raw.features.input, columns: raw.features.columns }
    : {
        mode: 'inputs',
        inputs: Array.isArray(raw.features.inputs)
          ? raw.features.inputs.map((c) => ({ input: c, column: c }))
          : Object.entries(raw.features.inputs ?? {}).map(([input, column]) => ({ input, column })),
      };
  const maxRejected = raw.errors?.max_rejected ?? 0;
  const schedule = raw.schedule ?? undefined;
  return {
    file,
    dir,
    name: raw.name ?? path.basename(file).replace(/\.(ya?ml)$/i, ''),
    model: {
      path: resolveJobPath(dir, raw.model.path),
      threads: raw.model.threads,
      interThreads: raw.model.inter_threads,
      optimization: raw.model.optimization ?? 'all',
    },
    input: {
      patterns: (Array.isArray(raw.input.path) ? raw.input.path : [raw.input.path]).map((p) => resolveJobPath(dir, p)),
      format: raw.input.format,
      csv: {
        delimiter: csv.delimiter === 'tab' || csv.delimiter === '\\t' ? '\t' : csv.delimiter,
        quote: csv.quote ?? '"',
        header: csv.header ?? true,
        encoding: csv.encoding === 'latin1' || csv.encoding === 'iso-8859-1' ? 'latin1' : 'utf8',
        relaxQuotes: csv.relax_quotes ?? false,
      },
      incremental: raw.input.incremental ?? false,
      readers: raw.input.readers,
    },
    features,
    missing: { default: defaultMissing, byColumn },
    passthrough: raw.passthrough ?? [],
    predictions: raw.predictions?.map((p): PredictionSpec => {
      if (p.threshold) {
        const t = p.threshold;
        return { kind: 'threshold', output: t.output, cls: String(t.class), at: t.at, column: t.column ?? `${t.output}_${t.class}` };
      }
      const output = p.output as string;
      return { kind: 'output', output, column: p.column ?? output, labels: p.labels };
    }),
    batchSize: raw.batch_size ?? DEFAULT_BATCH_SIZE,
    output: {
      template: resolveJobPath(dir, raw.output.path),
      format: raw.output.format,
      floatPrecision: raw.output.float_precision ?? DEFAULT_FLOAT_PRECISION,
    },
    errors: {
      maxRejected:
        typeof maxRejected === 'number'
          ? { kind: 'count', count: maxRejected }
          : { kind: 'percent', percent: Number(maxRejected.replace('%', '').trim()) },
      rejects: raw.errors?.rejects ? resolveJobPath(dir, raw.errors.rejects) : undefined,
    },
    schedule: schedule
      ? {
          cron: schedule.cron,
          timezone: schedule.timezone ?? 'UTC',
          missed: schedule.missed ?? 'skip',
          retries: schedule.retries ?? 0,
          retryDelayMs: parseDuration(schedule.retry_delay ?? '1m') as number,
          timeoutMs: schedule.timeout === undefined ? undefined : parseDuration(schedule.timeout),
        }
      : undefined,
    timeoutMs: raw.timeout === undefined ? undefined : parseDuration(raw.timeout),
    stateDir: resolveJobPath(dir, raw.state_dir ?? '.serve-batch'),
    metricsFile: raw.metrics_file ? resolveJobPath(dir, raw.metrics_file) : undefined,
  };
}
