// Run plans for tests of one model input.
import type { JobConfig } from '../../src/job/config.js';
import type { FeedType, RunPlan } from '../../src/pipeline/plan.js';

export type Missing = JobConfig['missing']['default'];

// A plan with one model input `x` of `type` reading column `v`.
export function oneColumnPlan(type: FeedType, missing: Missing = { kind: 'reject' }): RunPlan {
  const asText = ['int64', 'uint64', 'bool', 'string'].includes(type);
  return {
    tensors: [{ input: 'x', type, columns: [{ name: 'v', missing }], rank: 2 }],
    needs: [{ name: 'v', number: !asText, text: asText }],
    passthrough: [],
    fetch: [],
    columns: [],
    unresolved: [],
    warnings: [],
  };
}
