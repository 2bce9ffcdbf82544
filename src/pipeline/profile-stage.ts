// The profile stage of a run: every feature column as the model receives it (the feed tensors, after the
// missing policy) and every prediction column as it is written, profiled chunk by chunk while the input
// streams, with nothing kept but each column's exact, mergeable state (src/monitor). Passthrough columns are
// not profiled: they are carried, not scored.
import { SbError } from '../errors.js';
import type { LoadedModel } from '../model/session.js';
import { Profiler, type ColumnSpec } from '../monitor/index.js';
import type { ResultChunk } from '../table/result.js';
import type { Feed } from './featurize.js';
import type { RunPlan } from './plan.js';
import { resultFields } from './result-fields.js';

export interface ProfileColumns {
  /** Features, then predictions, in plan order. */
  specs: ColumnSpec[];
  features: string[];
  predictions: string[];
}

// The columns a run profiles (call once output widths are known: after probeWidths).
export function profileColumns(plan: RunPlan, model: LoadedModel): ProfileColumns {
  const specs: ColumnSpec[] = [];
  const features: string[] = [];
  for (const t of plan.tensors) {
    for (const c of t.columns) {
      if (features.includes(c.name)) continue;
      features.push(c.name);
      specs.push({ name: c.name, kind: t.type === 'string' ? 'text' : 'number' });
    }
  }
  const predictions: string[] = [];
  for (const f of resultFields(plan, model).slice(plan.passthrough.length)) {
    if (features.includes(f.name)) {
      throw new SbError('MODEL_MISMATCH', `prediction column '${f.name}' has the name of a feature column, so its profile would be ambiguous; rename it with predictions[].column`, { yamlPath: 'predictions' });
    }
    predictions.push(f.name);
    specs.push({ name: f.name, kind: f.type === 'string' ? 'text' : 'number' });
  }
  return { specs, features, predictions };
}

/** The profile of one input (or one shard's piece of it): fed each scored chunk, finished once. */
export class ChunkProfiler {
  readonly profiler: Profiler;
  private readonly predictions: Set<string>;
  /** Per feed, the column each of its columns is profiled as; undefined for a column already profiled from
   *  an earlier place (a column listed twice, or fed to two inputs). */
  private readonly feedColumns: (string | undefined)[][];

  constructor(columns: ProfileColumns, plan: RunPlan) {
    this.profiler = new Profiler(columns.specs);
    this.predictions = new Set(columns.predictions);
    const seen = new Set<string>();
    this.feedColumns = plan.tensors.map((t) => t.columns.map((c) => (seen.has(c.name) ? undefined : (seen.add(c.name), c.name))));
  }

  // One scored chunk: its feeds (as the model received them) and its result columns.
  add(feeds: readonly Feed[], result: ResultChunk): void {
    const rows = result.rows;
    if (rows === 0) return;
    this.feedColumns.forEach((names, i) => this.addFeed(names, feeds[i], rows));
    for (const c of result.columns) {
      if (!this.predictions.has(c.name)) continue;
      if (c.kind === 'text') this.profiler.text(c.name).add(c.values, rows);
      else if (c.kind !== 'packed') this.profiler.number(c.name).add(c.values, rows, c.offset, c.stride);
    }
  }

  // A feed's columns: numbers through the tensor path (row-major [rows, width]), strings one by one.
  private addFeed(names: (string | undefined)[], feed: Feed, rows: number): void {
    const width = names.length;
    const data = feed.data;
    if (!Array.isArray(data)) {
      this.profiler.tensor(names, data, rows);
      return;
    }
    names.forEach((name, k) => {
      if (name !== undefined) this.profiler.text(name).add(width === 1 ? data : Array.from({ length: rows }, (_, r) => data[r * width + k]), rows);
    });
  }
}
