// Which shard a worker is, from the command line and the environment an engine gives it: `--shard i/N`; or
// the index from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs) with the count from `--shards N` or
// SERVE_BATCH_SHARDS.
import { parseShard, shardCountProblem, type ShardSpec } from '../run/shards.js';

export type ShardChoice = { shard?: ShardSpec; warning?: string } | { error: string };

// The count of `--shards` or SERVE_BATCH_SHARDS, a message, or undefined when neither is set.
export function shardCount(raw: string | undefined, env: NodeJS.ProcessEnv): number | { error: string } | undefined {
  const text = raw ?? env.SERVE_BATCH_SHARDS;
  if (text === undefined || text.trim() === '') return undefined;
  const where = raw !== undefined ? '--shards' : 'SERVE_BATCH_SHARDS';
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  const problem = shardCountProblem(n, `${where} (the number of workers)`);
  return problem ? { error: `${problem} (got '${text}')` } : n;
}

export function chooseShard(o: { shard?: string; shards?: string }, env: NodeJS.ProcessEnv): ShardChoice {
  const count = shardCount(o.shards, env);
  if (typeof count === 'object') return count;
  if (o.shard !== undefined) {
    const s = parseShard(o.shard);
    if (typeof s === 'string') return { error: `--shard: ${s}` };
    if (o.shards !== undefined && count !== s.count) return { error: `--shard ${o.shard} and --shards ${o.shards} disagree about the number of workers: give one of them` };
    return { shard: s };
  }
  const rawIndex = env.JOB_COMPLETION_INDEX;
  if (count === undefined) {
    if (rawIndex === undefined) return {};
    return { warning: 'JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job?) but no number of workers is (--shards N or SERVE_BATCH_SHARDS): this worker scores every input' };
  }
  if (rawIndex === undefined || rawIndex.trim() === '') {
    return { error: `${o.shards !== undefined ? '--shards' : 'SERVE_BATCH_SHARDS'} ${count} needs this worker's index: give --shard i/${count}, or run as a Kubernetes Indexed Job (which sets JOB_COMPLETION_INDEX)` };
  }
  if (!/^\s*\d+\s*$/.test(rawIndex)) return { error: `JOB_COMPLETION_INDEX must be a whole number from 0 (got '${rawIndex}')` };
  const index = Number(rawIndex);
  if (index >= count) return { error: `JOB_COMPLETION_INDEX is ${index} but there are ${count} workers, numbered 0 to ${count - 1}: set the Job's completions to the number of workers` };
  return { shard: { index, count } };
}
