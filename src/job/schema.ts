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

export const missingValue = z.custom<'reject' | 'nan' | number>(
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

export const formatName = z.enum(['csv', 'tsv', 'jsonl', 'parquet']);

const inputSchema = z.preprocess(
  widen('path'),
  z.strictObject({
    path: z.union([text, z.array(text).min(1)]),
    format: formatName.optional(),
    csv: csvSchema.optional(),
    incremental: z.boolean().optional(),
    readers: z.number().int('must be a whole number').min(1, 'must be at least 1').max(256, 'must be at most 256').optional(),
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
  z.strictObject({
    path: text,
    format: formatName.optional(),
    float_precision: z.number().int().min(1).max(17).optional(),
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

export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** The longest job name: state files add up to ~64 bytes to it (`<job>.shard-<i>-of-<N>.lock.takeover-<pid>-<run_id>`), within the 255 a file name may have. */
export const MAX_JOB_NAME = 128;
export const JOB_NAME_TOO_LONG = `must be at most ${MAX_JOB_NAME} characters (it names files in state_dir)`;

export const jobSchema = z.strictObject({
  name: z
    .union([z.string(), z.number()])
    .transform(String)
    .refine((n) => JOB_NAME.test(n), 'must be letters, digits, ".", "_" or "-" (it names files in state_dir)')
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
  metrics_file: text.nullable().optional(),
});

export type RawJob = z.infer<typeof jobSchema>;
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
