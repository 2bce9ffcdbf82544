// The shard plan of a run (run/shards.ts) from its input listing: the cuts that fall inside files are placed
// by reading those files (io/split.ts); every worker does the same and gets the same plan.
import type { JobConfig, TextFormat } from '../job/config.js';
import { delimiterOf } from '../io/formats.js';
import { cutsIn, snapWhole, type SplitDecision } from '../io/split.js';
import { messageOf } from '../errors.js';
import { buildPlan, placeCuts, wantedCuts, type PlacedCut, type ShardPlan } from './shards.js';

export interface PlanInput {
  path: string;
  bytes?: number;
  format: TextFormat;
}

// Plan `count` shards over the inputs (in input order).
export async function planShards(job: JobConfig, inputs: PlanInput[], count: number): Promise<ShardPlan> {
  const files = inputs.map((i) => ({ path: i.path, bytes: i.bytes ?? 0 }));
  const wanted = wantedCuts(files, count);
  const placed = new Map<number, PlacedCut>();
  const splits: SplitDecision[] = [];
  const headers = new Map<string, string[]>();
  for (const f of [...new Set(wanted.map((w) => w.file))]) {
    const mine = wanted.filter((w) => w.file === f);
    const { path, bytes } = files[f];
    const format = inputs[f].format;
    const csv = { ...job.input.csv, delimiter: job.input.csv.delimiter ?? delimiterOf(format) };
    let found;
    try {
      found = await cutsIn(path, bytes, format, csv, mine.map((w) => w.offset));
    } catch (err) {
      // Scoring it will say what is wrong; the plan gives it to one worker.
      found = { cuts: mine.map((w) => snapWhole(bytes, w.offset)), decision: { path, how: 'whole' as const, pieces: 1, reason: `it could not be read to plan the shards (${messageOf(err)})` } };
    }
    mine.forEach((w, i) => placed.set(w.cut, { file: f, at: found.cuts[i] }));
    splits.push(found.decision);
    if ('header' in found && found.header) headers.set(path, found.header);
  }
  const plan = buildPlan(files, count, placeCuts(files, count, placed), splits);
  // A piece reads with the file's column names, unless it is the first piece of a file with a header line
  // (it reads that line itself); without a header line, the names come from the first record of the file.
  for (const piece of plan.shards.flat()) {
    if (piece.range && headers.has(piece.path) && (piece.range.start.offset > 0 || job.input.csv.header !== true)) piece.header = headers.get(piece.path);
  }
  return plan;
}
