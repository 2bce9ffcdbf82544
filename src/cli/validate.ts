// `serve-batch validate`: one report per job; exit 2 if any job has a problem.
import { validateJob, type ValidateReport } from '../run/validate.js';
import { createLogger, type Logger, type LogFormat } from './logger.js';

export interface ValidateOptions {
  json?: boolean;
  logFormat?: LogFormat;
}

export async function validateCommand(files: string[], o: ValidateOptions): Promise<number> {
  const logger = createLogger({ format: o.logFormat });
  let code = 0;
  for (const f of files) {
    const r = await validateJob(f);
    if (!r.ok) code = 2;
    if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else print(logger, r);
  }
  return code;
}

function print(logger: Logger, r: ValidateReport): void {
  for (const p of r.problems) logger.log('error', 'problem', p, { job_file: r.file });
  for (const w of r.warnings) logger.log('warn', 'warning', w, { job_file: r.file });
  if (!r.ok) return;
  const sample = r.sample ? `; first ${r.sample.rows_in} rows of ${r.sample.input} scored (${r.sample.rows_rejected} rejected)` : '';
  process.stdout.write(`ok: ${r.file} (job ${r.job}): ${r.inputs} input file${r.inputs === 1 ? '' : 's'}, result columns ${r.outputs?.join(', ')}${sample}\n`);
}

