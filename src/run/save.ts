// The end of every run, whoever ran it (runJob, or the scheduler for a run whose process died): the metrics
// file first, then the run record, so a metrics problem is still reported in the record.
import type { JobConfig } from '../job/config.js';
import { messageOf } from '../errors.js';
import { writeMetrics } from './metrics.js';
import { recordPath, writeRecord, type RunRecord } from './record.js';

// Write the job's metrics (if it has a metrics_file) and the run record; failures become warnings. `name`
// (default: the job's) names the records' folder and the metrics' job_name: a shard's own
// (`<job>.shard-<i>-of-<N>`), so workers sharing a state_dir or a metrics file keep apart.
// `signal` ends a wait for the reader of a metrics FIFO.
export async function saveRecord(job: Pick<JobConfig, 'name' | 'stateDir' | 'metricsFile'>, record: RunRecord, name = job.name, signal?: AbortSignal): Promise<void> {
  if (job.metricsFile && record.status !== 'dry-run') {
    try {
      await writeMetrics(job.metricsFile, name === record.job ? record : { ...record, job: name }, signal);
    } catch (err) {
      record.warnings.push(`the metrics file could not be written: ${messageOf(err)}`);
    }
  }
  const file = recordPath(job.stateDir, name, record.run_id);
  record.record = file;
  try {
    await writeRecord(file, record);
  } catch (err) {
    record.record = null;
    record.warnings.push(`the run record could not be written: ${messageOf(err)}`);
  }
}
