// Run records the scheduler writes itself, in the same shape as runJob's: for a fire skipped because the job's
// previous run is still going, and for a run whose process died before it could write its own record.
import type { JobConfig } from '../job/config.js';
import { ORT_VERSION } from '../model/ort-version.js';
import { startRecord, totals, type FireInfo, type InputRecord, type RunRecord, type RunStatus } from '../run/record.js';

export interface SchedulerRecordInput {
  runId: string;
  fire: FireInfo;
  started: Date;
  ended: Date;
  status: RunStatus;
  exitCode: number;
  error: string;
  /** Inputs the run reported as finished before it died. */
  inputs?: InputRecord[];
}

// A run record for a scheduled run that runJob could not write.
export function schedulerRecord(job: JobConfig, o: SchedulerRecordInput): RunRecord {
  const inputs = o.inputs ?? [];
  return {
    ...startRecord(job, o.runId, o.started, { trigger: 'schedule', schedule: o.fire, onnxruntime: ORT_VERSION }),
    ended_at: o.ended.toISOString(),
    duration_ms: o.ended.getTime() - o.started.getTime(),
    status: o.status,
    exit_code: o.exitCode,
    error: o.error,
    totals: totals(inputs),
    inputs,
  };
}
