// Passthrough columns + fetched outputs → result columns, in the plan's order, one row per kept input row.
import { SbError } from '../errors.js';
import type { Outputs, TensorData } from '../model/tensors.js';
import type { ResultChunk, ResultColumn } from '../table/result.js';
import type { ColumnPlan, RunPlan } from './plan.js';
import type { PreparedChunk } from './prepare.js';

// Result column names for a plan, with widths learnt from a first model call where they were unknown.
export function resultNames(plan: RunPlan): string[] {
  const names = [...plan.passthrough];
  for (const c of plan.columns) names.push(...(c.kind === 'threshold' ? [c.name] : c.names));
  return names;
}

// Build the result chunk for one scored chunk.
export function assemble(chunk: PreparedChunk, outputs: Outputs, plan: RunPlan): ResultChunk {
  const rows = chunk.rows;
  const columns: ResultColumn[] = plan.passthrough.map((name, i) => ({ name, kind: 'packed', values: chunk.passthrough[i] }));
  for (const c of plan.columns) columns.push(...outputColumns(c, outputs[c.output], rows));
  return { rows, columns };
}

function outputColumns(c: ColumnPlan, t: TensorData, rows: number): ResultColumn[] {
  const width = t.dims.length >= 2 ? t.dims.slice(1).reduce((a, d) => a * d, 1) : 1;
  if (t.dims[0] !== rows && !(rows === 0 && t.dims.length > 0)) {
    throw new SbError('MODEL_RUNTIME', `output '${c.output}' has ${t.dims[0]} rows for ${rows} input rows; serve-batch needs one output row per input row`);
  }
  if (c.kind === 'threshold') {
    const p = asFloat(t);
    const flags = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) flags[r] = p[r * width + c.classIndex] >= c.at ? 1 : 0;
    return [{ name: c.name, kind: 'int', values: flags, stride: 1, offset: 0 }];
  }
  if (c.names.length === 0) c.names.push(...Array.from({ length: width }, (_, k) => `${c.base}_${k}`));
  if (c.names.length !== width) {
    throw new SbError('MODEL_RUNTIME', `output '${c.output}' has ${width} columns but ${c.names.length} names were planned (labels or model metadata disagree with the model)`);
  }
  return c.names.map((name, k) => column(name, t, width, k, c.labels, c.classes));
}

function column(name: string, t: TensorData, stride: number, offset: number, labels?: string[], classes?: (string | number)[]): ResultColumn {
  const data = t.data;
  if (t.type === 'string') {
    const all = data as string[];
    return { name, kind: 'text', values: stride === 1 ? all : Array.from({ length: all.length / stride }, (_, r) => all[r * stride + offset]) };
  }
  if (labels) {
    const n = t.dims[0];
    const values = new Array<string>(n);
    const index = classes ? new Map(classes.map((c, i) => [String(c), i])) : undefined;
    for (let r = 0; r < n; r++) {
      const v = String((data as ArrayLike<number | bigint>)[r * stride + offset]);
      const i = index ? index.get(v) : Number(v);
      values[r] = i !== undefined && i >= 0 && i < labels.length && Number.isInteger(i) ? labels[i] : v;
    }
    return { name, kind: 'text', values };
  }
  if (t.type === 'float32' || t.type === 'float64') return { name, kind: 'float', values: data as Float32Array | Float64Array, stride, offset };
  if (t.type === 'float16') return { name, kind: 'float', values: asFloat(t) as Float32Array, stride, offset };
  if (t.type === 'bool') return { name, kind: 'bool', values: data as Uint8Array, stride, offset };
  return { name, kind: 'int', values: data as ArrayLike<number>, stride, offset };
}

// Float view of a numeric tensor (float16 decoded).
function asFloat(t: TensorData): ArrayLike<number> {
  if (t.type !== 'float16') return t.data as ArrayLike<number>;
  const src = t.data as Uint16Array;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
