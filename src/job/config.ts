// The normalized job: what every other part of serve-batch reads. Built once from the raw YAML by
// normalizeJob(); paths are absolute, defaults applied, shorthands widened.
import path from 'node:path';
import type { NOTIFY_EVENTS, RawJob, RawMissing, RawNotify } from './schema.js';
import { parseDuration } from '../util/duration.js';
import { redactUrl } from '../util/redact-url.js';

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

type FeatureMap =
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

export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** One webhook of `notify:`. */
export interface NotifyTarget {
  on: NotifyEvent[];
  /** The URL as expanded: it may hold a secret, so it is only ever sent to, never shown. */
  url: string;
  /** How logs and messages name it: the variables it came from and its redacted form. */
  shown: string;
  format: 'json' | 'slack';
  timeoutMs: number;
  retries: number;
}

/** A query input (input.database): rows come from a query instead of files. */
interface QueryInput {
  /** The database URL as the job gives it: it may hold a password, so it is never shown (db/redact.ts). */
  database: string;
  text: string;
  /** A column of the result whose values grow: each run reads the rows above the largest value scored before. */
  watermark?: string;
  /** Sharded runs: each worker reads the rows whose value of this column hashes to its shard. */
  shardKey?: string;
}

/** A table output (output.database): results are moved into a table in one transaction. */
interface TableOutput {
  database: string;
  table: string;
  mode: 'append' | 'replace' | 'upsert';
  key?: string[];
  create: boolean;
  runIdColumn?: string;
}

export interface JobConfig {
  file: string;
  dir: string;
  name: string;
  model: { path: string; threads?: number; interThreads?: number; optimization: Optimization };
  /** patterns is empty for a query input. `readers`: reader threads for one large text or Parquet input
   *  (undefined: chosen per input, pipeline/pieces.ts). */
  input: { patterns: string[]; format?: TextFormat; csv: CsvOptions; incremental: boolean; query?: QueryInput; readers?: number };
  features: FeatureMap;
  missing: { default: MissingPolicy; byColumn: Map<string, MissingPolicy> };
  passthrough: string[];
  /** Undefined: every tensor output of the model. */
  predictions?: PredictionSpec[];
  batchSize: number;
  /** template is '' for a table output. */
  output: { template: string; format?: TextFormat; floatPrecision: number; table?: TableOutput };
  errors: { maxRejected: RejectLimit; rejects?: string };
  schedule?: ScheduleConfig;
  /** Every run of the job fails when it takes longer (`timeout`); undefined: no limit. */
  timeoutMs?: number;
  stateDir: string;
  metricsFile?: string;
  /** Undefined: the job file has no `notify:` (the folder's `_defaults.yaml` may give one). */
  notify?: NotifyTarget[];
  /** Where objects live (`storage.s3`): endpoint, region, addressing; credentials come from the environment. */
  storage?: { s3?: { endpoint?: string; region?: string; forcePathStyle?: boolean } };
  /** Profile every run's features and predictions (`profile: false` turns it off; monitor needs it). */
  profile: boolean;
  monitor?: MonitorConfig;
}

export type DriftMetric = 'psi' | 'js';

export interface MonitorConfig {
  /** The reference profile (absolute path). */
  reference: string;
  metric: DriftMetric;
  warnAt: number;
  failAt: number;
  /** Undefined: every feature and prediction column. */
  columns?: string[];
  /** Alert when a column's missing share rises by more than this; undefined: not checked. */
  missingRateIncrease?: number;
}

/** Drift thresholds when the job gives none: PSI's customary 0.1 (watch) and 0.25 (act). */
const DEFAULT_THRESHOLDS: Record<DriftMetric, { warn: number; fail: number }> = { psi: { warn: 0.1, fail: 0.25 }, js: { warn: 0.1, fail: 0.2 } };
const DEFAULT_MISSING_RATE_INCREASE = 0.05;

export const DEFAULT_BATCH_SIZE = 8192;
export const DEFAULT_FLOAT_PRECISION = 6;
const DEFAULT_NOTIFY_TIMEOUT = '10s';
const DEFAULT_NOTIFY_RETRIES = 3;

// A job-relative path made absolute; `-` (stdin/stdout) and URLs (`s3://bucket/key`) are kept as they are.
export function resolveJobPath(dir: string, p: string): string {
  return p === '-' || isUrl(p) ? p : path.resolve(dir, p);
}

// Whether a path is a URL with a scheme (`s3://…`), which no local path resolution applies to.
export function isUrl(p: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p);
}

// Raw `notify:` → its targets (null: none).
export function normalizeNotify(raw: RawNotify): NotifyTarget[] {
  return (raw ?? []).map((t) => ({
    on: [...new Set(t.on)],
    url: t.webhook,
    shown: redactUrl(t.webhook),
    format: t.format ?? 'json',
    timeoutMs: parseDuration(t.timeout ?? DEFAULT_NOTIFY_TIMEOUT) as number,
    retries: t.retries ?? DEFAULT_NOTIFY_RETRIES,
  }));
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
      patterns: raw.input.path === undefined ? [] : (Array.isArray(raw.input.path) ? raw.input.path : [raw.input.path]).map((p) => resolveJobPath(dir, p)),
      format: raw.input.format,
      csv: {
        delimiter: csv.delimiter === 'tab' || csv.delimiter === '\\t' ? '\t' : csv.delimiter,
        quote: csv.quote ?? '"',
        header: csv.header ?? true,
        encoding: csv.encoding === 'latin1' || csv.encoding === 'iso-8859-1' ? 'latin1' : 'utf8',
        relaxQuotes: csv.relax_quotes ?? false,
      },
      incremental: raw.input.incremental ?? false,
      ...(raw.input.database !== undefined ? { query: { database: raw.input.database, text: raw.input.query as string, watermark: raw.input.watermark, shardKey: raw.input.shard_key } } : {}),
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
      template: raw.output.path === undefined ? '' : resolveJobPath(dir, raw.output.path),
      format: raw.output.format,
      floatPrecision: raw.output.float_precision ?? DEFAULT_FLOAT_PRECISION,
      ...(raw.output.database !== undefined
        ? { table: { database: raw.output.database, table: raw.output.table as string, mode: raw.output.mode ?? 'append', key: raw.output.key, create: raw.output.create ?? false, runIdColumn: raw.output.run_id_column } }
        : {}),
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
    ...(raw.notify !== undefined ? { notify: normalizeNotify(raw.notify) } : {}),
    storage: raw.storage?.s3 ? { s3: { endpoint: raw.storage.s3.endpoint, region: raw.storage.s3.region, forcePathStyle: raw.storage.s3.force_path_style } } : {},
    profile: raw.profile ?? true,
    monitor: raw.monitor ? monitorConfig(raw.monitor, dir) : undefined,
  };
}

function monitorConfig(m: NonNullable<RawJob['monitor']>, dir: string): MonitorConfig {
  const metric = m.metric ?? 'psi';
  const d = DEFAULT_THRESHOLDS[metric];
  const failAt = m.fail_at ?? Math.max(d.fail, m.warn_at ?? 0);
  return {
    reference: resolveJobPath(dir, m.reference),
    metric,
    warnAt: m.warn_at ?? Math.min(d.warn, failAt),
    failAt,
    columns: m.columns,
    missingRateIncrease: m.missing_rate_increase === null ? undefined : (m.missing_rate_increase ?? DEFAULT_MISSING_RATE_INCREASE),
  };
}
