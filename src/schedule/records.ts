// Run records the scheduler writes itself, in the same shape as runJob's: for a fire skipped because the job's
// previous run is still going, and for a run whose process died before it could write its own record.
import type { JobConfig } from '../job/config.js';
import { ORT_VERSION } from '../model/session.js';
import { totals, type FireInfo, type InputRecord, type RunRecord, type RunStatus } from '../run/record.js';
import { VERSION } from '../version.js';

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
    job: job.name,
    job_file: job.file,
    run_id: o.runId,
    trigger: 'schedule',
    schedule: o.fire,
    started_at: o.started.toISOString(),
    ended_at: o.ended.toISOString(),
    duration_ms: o.ended.getTime() - o.started.getTime(),
    status: o.status,
    exit_code: o.exitCode,
    error: o.error,
    model: { path: job.model.path, sha256: null },
    versions: { serve_batch: VERSION, onnxruntime: ORT_VERSION, node: process.version },
    totals: totals(inputs),
    inputs,
    warnings: [],
    record: null,
  };
}
