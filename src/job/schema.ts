// The job file's shape (SPEC "Job file"). Strict objects, so an unknown key is an error with a did-you-mean.
// Shorthands (`model: path`, `input: path`, `output: path`, a prediction given as an output name) are
// widened to their object form before validation so each object has one schema and one error shape.
import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

const text = z.string().min(1, 'must not be empty');
const name = z.union([text, z.number()]).transform(String);

// Wrap a scalar or list shorthand into `{ [key]: value }`.
function widen(key: string) {
  return (v: unknown) => (typeof v === 'string' || Array.isArray(v) ? { [key]: v } : v);
}

const duration = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, 'must be a duration like 90, 30s, 5m, 2h or 1h30m');

const positiveDuration = z.union([z.string(), z.number()]).superRefine((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: 'must be a duration like 90, 30s, 5m, 2h or 1h30m' });
  else if (ms <= 0) ctx.addIssue({ code: 'custom', message: 'must be longer than 0 (leave it out for no limit)' });
});

const missingValue = z.custom<'reject' | 'nan' | number>(
  (v) => v === 'reject' || v === 'nan' || (typeof v === 'number' && Number.isFinite(v)),
  "must be 'reject', 'nan' or a number",
);

const modelSchema = z.preprocess(
  widen('path'),
  z.strictObject({
    path: text,
    threads: z.number().int().min(0).max(256).optional(),
    inter_threads: z.number().int().min(0).max(256).optional(),
    optimization: z.enum(['disabled', 'basic', 'extended', 'all']).optional(),
  }),
);

const csvSchema = z.strictObject({
  delimiter: z
    .string()
    .min(1, 'must not be empty')
    .refine((d) => !/[\r\n]/.test(d), 'cannot contain a line break')
    .optional(),
  quote: z.string().optional(),
  header: z.union([z.boolean(), z.array(name).min(1)]).optional(),
  encoding: z.enum(['utf8', 'utf-8', 'latin1', 'iso-8859-1']).optional(),
  relax_quotes: z.boolean().optional(),
}).refine((c) => c.quote === undefined || c.quote === '' || c.delimiter === undefined || c.delimiter !== c.quote, { message: 'delimiter and quote must differ' });

const formatName = z.enum(['csv', 'tsv', 'jsonl', 'parquet']);

// A database URL; the message never shows the value (it usually comes from ${DATABASE_URL} and holds a password).
const databaseUrl = text.refine((v) => /^postgres(ql)?:\/\//i.test(v), 'must be a PostgreSQL URL: postgres://user:password@host:5432/database (postgresql:// alone connects as psql would, from PGHOST, PGUSER, … and ~/.pgpass)');

type Issues = { addIssue(i: { code: 'custom'; message: string; path: string[] }): void };

// Keys of one kind of input or output given with the other kind.
function refuse(ctx: Issues, o: Record<string, unknown>, keys: string[], message: (key: string) => string): void {
  for (const k of keys) if (o[k] !== undefined) ctx.addIssue({ code: 'custom', message: message(k), path: [k] });
}

const inputSchema = z.preprocess(
  widen('path'),
  z
    .strictObject({
      path: z.union([text, z.array(text).min(1)]).optional(),
      format: formatName.optional(),
      csv: csvSchema.optional(),
      incremental: z.boolean().optional(),
      database: databaseUrl.optional(),
      query: text.optional(),
      watermark: text.optional(),
      shard_key: text.optional(),
      readers: z.number().int('must be a whole number').min(1, 'must be at least 1').max(256, 'must be at most 256').optional(),
    })
    .superRefine((i, ctx) => {
      if (i.database === undefined) {
        if (i.path === undefined) ctx.addIssue({ code: 'custom', message: 'required key is missing: the input files (or input.database and input.query to score a query)', path: ['path'] });
        refuse(ctx, i, ['query', 'watermark', 'shard_key'], (k) => `input.${k} needs input.database (the database the query runs on)`);
        return;
      }
      if (i.query === undefined) ctx.addIssue({ code: 'custom', message: 'required key is missing: the query whose rows are scored (select …)', path: ['query'] });
      refuse(ctx, i, ['path'], () => 'give either input.path (files) or input.database with input.query, not both');
      refuse(ctx, i, ['format', 'csv'], (k) => `input.${k} is for files: a query's columns come with their types; remove it`);
      refuse(ctx, i, ['incremental'], () => 'a query is read incrementally by input.watermark (a column whose values grow), not by files: remove input.incremental');
      if (i.watermark !== undefined && i.shard_key !== undefined) {
        ctx.addIssue({ code: 'custom', message: 'a query read by watermark cannot be sharded: each worker would need its own watermark; drop input.shard_key or input.watermark', path: ['shard_key'] });
      }
    }),
);

const featuresSchema = z
  .strictObject({
    columns: z.array(name).min(1).optional(),
    input: text.optional(),
    inputs: z.union([z.record(z.string(), name), z.array(name).min(1)]).optional(),
    missing: z.union([missingValue, z.record(z.string(), missingValue)]).optional(),
  })
  .refine((f) => (f.columns === undefined) !== (f.inputs === undefined), {
    message: 'give exactly one of features.columns (one [N, F] input) or features.inputs (one input per column)',
  });

const thresholdSchema = z.strictObject({
  output: text,
  class: z.union([z.string(), z.number()]),
  at: z.number().min(0).max(1),
  column: text.optional(),
});

const predictionSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { output: v } : v),
  z
    .strictObject({
      output: text.optional(),
      column: text.optional(),
      labels: z.array(name).min(1).optional(),
      threshold: thresholdSchema.optional(),
    })
    .refine((p) => (p.threshold === undefined) !== (p.output === undefined), {
      message: 'a prediction is either { output, column, labels } or { threshold: { output, class, at, column } }',
    })
    .refine((p) => p.threshold === undefined || (p.column === undefined && p.labels === undefined), {
      message: 'put column inside threshold: { ... }',
    }),
);

const outputSchema = z.preprocess(
  widen('path'),
  z
    .strictObject({
      path: text.optional(),
      format: formatName.optional(),
      float_precision: z.number().int().min(1).max(17).optional(),
      database: databaseUrl.optional(),
      table: text.optional(),
      mode: z.enum(['append', 'replace', 'upsert']).optional(),
      key: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(text).min(1)).optional(),
      create: z.boolean().optional(),
      run_id_column: text.optional(),
    })
    .superRefine((o, ctx) => {
      if (o.database === undefined) {
        if (o.path === undefined) ctx.addIssue({ code: 'custom', message: 'required key is missing: the result file (or output.database and output.table to write a table)', path: ['path'] });
        refuse(ctx, o, ['table', 'mode', 'key', 'create', 'run_id_column'], (k) => `output.${k} needs output.database (the database the table is in)`);
        return;
      }
      if (o.table === undefined) ctx.addIssue({ code: 'custom', message: 'required key is missing: the table the results go to (table or schema.table)', path: ['table'] });
      refuse(ctx, o, ['path'], () => 'give either output.path (a file) or output.database with output.table, not both');
      refuse(ctx, o, ['format'], () => 'output.format is for files: a table has its own column types; remove it');
      refuse(ctx, o, ['float_precision'], () => 'output.float_precision is for files: a table gets every bit of each float; remove it');
      if (o.mode === 'upsert' && o.key === undefined) ctx.addIssue({ code: 'custom', message: 'mode: upsert needs output.key, the columns that identify a row (a primary key or unique index of the table), e.g. key: [id]', path: ['mode'] });
      if (o.key !== undefined && o.mode !== 'upsert') ctx.addIssue({ code: 'custom', message: `output.key is only used by mode: upsert (mode is ${o.mode ?? 'append'}); remove it or set mode: upsert`, path: ['key'] });
    }),
);

const maxRejected = z.union([
  z.number().int().min(0),
  z.string().superRefine((v, ctx) => {
    if (!/^\s*\d+(\.\d+)?\s*%\s*$/.test(v)) ctx.addIssue({ code: 'custom', message: 'must be a count like 10 or a percentage like "0.5%"' });
    else if (Number(v.replace('%', '')) > 100) ctx.addIssue({ code: 'custom', message: 'a percentage cannot exceed 100%' });
  }),
]);

const errorsSchema = z.strictObject({
  max_rejected: maxRejected.optional(),
  rejects: text.nullable().optional(),
});

const scheduleSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { cron: v } : v),
  z.strictObject({
    cron: text,
    timezone: text.optional(),
    missed: z.enum(['skip', 'run-once']).optional(),
    retries: z.number().int().min(0).max(100).optional(),
    retry_delay: duration.optional(),
    timeout: duration.optional(),
  }),
);

/** What a run can end as, for `notify.on` (alert: finished with a monitored column above `fail_at`). */
export const NOTIFY_EVENTS = ['ok', 'failed', 'alert', 'skipped', 'interrupted'] as const;

// One webhook: `on` may be one event or a list. The URL's form is checked after expansion (load.ts), where a
// value from the environment can be named instead of shown.
const notifyTargetSchema = z.strictObject({
  on: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.enum(NOTIFY_EVENTS)).min(1, 'name at least one of ok, failed, alert, skipped, interrupted')),
  webhook: text,
  format: z.enum(['json', 'slack']).optional(),
  timeout: positiveDuration.optional(),
  retries: z.number().int().min(0).max(10).optional(),
});

/** `notify:` of a job file or of a folder's `_defaults.yaml`; null or [] sends nothing. */
const notifySchema = z.array(notifyTargetSchema).nullable();

// An S3-compatible server's address: http(s)://host[:port], without credentials (those come from the AWS
// environment). Messages never show the value: it may come from an environment variable.
const endpoint = text.superRefine((v, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    // said below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) ctx.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:9000 or https://<account>.r2.cloudflarestorage.com' });
  else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not hold a user or password: S3 credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE' });
});

const storageSchema = z.strictObject({
  s3: z
    .strictObject({
      endpoint: endpoint.optional(),
      region: text.optional(),
      force_path_style: z.boolean().optional(),
    })
    .optional(),
});

const threshold = z.number().min(0, 'must be 0 or more');

const monitorSchema = z
  .strictObject({
    reference: text,
    metric: z.enum(['psi', 'js']).optional(),
    warn_at: threshold.optional(),
    fail_at: threshold.optional(),
    columns: z.array(name).min(1).optional(),
    missing_rate_increase: z.number().min(0, 'must be 0 or more').max(1, 'is a share of rows: at most 1').nullable().optional(),
  })
  .refine((m) => m.warn_at === undefined || m.fail_at === undefined || m.warn_at <= m.fail_at, { message: 'warn_at must not be above fail_at', path: ['warn_at'] })
  .refine((m) => m.metric !== 'js' || ((m.warn_at ?? 0) <= 1 && (m.fail_at ?? 0) <= 1), { message: 'the Jensen-Shannon distance lies between 0 and 1: give warn_at and fail_at at most 1', path: ['fail_at'] });

export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** JOB_NAME in words: both halves, since `..` and `-rf` are made of allowed characters. */
export const JOB_NAME_RULE = 'must start with a letter or digit, followed by letters, digits, ".", "_" or "-"';
/** The longest job name: state files add up to ~64 bytes to it (`<job>.shard-<i>-of-<N>.lock.takeover-<pid>-<run_id>`), within the 255 a file name may have. */
export const MAX_JOB_NAME = 128;
export const JOB_NAME_TOO_LONG = `must be at most ${MAX_JOB_NAME} characters (it names files in state_dir)`;

export const jobSchema = z.strictObject({
  name: z
    .union([z.string(), z.number()])
    .transform(String)
    .refine((n) => JOB_NAME.test(n), `${JOB_NAME_RULE} (it names files in state_dir)`)
    .refine((n) => n.length <= MAX_JOB_NAME, JOB_NAME_TOO_LONG)
    .optional(),
  model: modelSchema,
  input: inputSchema,
  features: featuresSchema,
  passthrough: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(name)).optional(),
  predictions: z.array(predictionSchema).min(1).optional(),
  batch_size: z.number().int().min(1).max(1_000_000).optional(),
  output: outputSchema,
  errors: errorsSchema.optional(),
  schedule: scheduleSchema.nullable().optional(),
  timeout: positiveDuration.optional(),
  state_dir: text.optional(),
  storage: storageSchema.optional(),
  metrics_file: text.nullable().optional(),
  profile: z.boolean().optional(),
  monitor: monitorSchema.optional(),
  notify: notifySchema.optional(),
});

/** A folder's `_defaults.yaml`: settings for every job file beside it that does not set them itself. */
export const folderDefaultsSchema = z.strictObject({
  notify: notifySchema.optional(),
});

export type RawJob = z.infer<typeof jobSchema>;
export type RawNotify = z.infer<typeof notifySchema>;
export type RawMissing = z.infer<typeof missingValue>;

// The keys an object schema accepts at a path into the job, for did-you-mean on unknown keys.
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType | undefined = jobSchema;
  for (const key of path) {
    schema = schema && step(schema, key);
  }
  const obj = schema && unwrapObject(schema);
  return obj ? Object.keys(obj.shape) : [];
}

function step(schema: z.ZodType, key: PropertyKey): z.ZodType | undefined {
  const s = unwrap(schema);
  if (s instanceof z.ZodArray) return s.element as z.ZodType;
  if (s instanceof z.ZodRecord) return s.valueType as z.ZodType;
  const obj = unwrapObject(s);
  return obj ? (obj.shape[String(key)] as z.ZodType | undefined) : undefined;
}

function unwrapObject(schema: z.ZodType): z.ZodObject | undefined {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) return s;
  if (s instanceof z.ZodUnion) {
    for (const option of s.options) {
      const o = unwrapObject(option as z.ZodType);
      if (o) return o;
    }
  }
  return undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = (s.in instanceof z.ZodTransform ? s.out : s.in) as z.ZodType;
    else return s;
  }
}
