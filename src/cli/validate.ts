// `serve-batch validate`: one report per job; exit 2 if any job has a problem.
import path from 'node:path';
import { validateJob, type ValidateReport } from '../run/validate.js';
import { counted, displayPath } from '../util/display.js';
import { createLogger, printable, type Logger, type LogFormat } from './logger.js';
import { redact } from '../util/redact.js';

export interface ValidateOptions {
  json?: boolean;
  logFormat?: LogFormat;
}

export async function validateCommand(files: string[], o: ValidateOptions): Promise<number> {
  const logger = createLogger({ format: o.logFormat });
  let code = 0;
  for (const f of files) {
    const r = await validateJob(f);
    // Whatever the problem (a data file that does not parse included), the job is not fit to run; only a store
    // that cannot be reached now (exit 1) may answer later.
    if (!r.ok) code = Math.max(code, r.exit_code);
    if (o.json) process.stdout.write(redact(`${JSON.stringify(r)}\n`));
    else print(logger, r);
  }
  return code;
}

function print(logger: Logger, r: ValidateReport): void {
  for (const p of r.problems) logger.log('error', 'problem', inJobFile(r.file, p), { job_file: r.file });
  for (const w of r.warnings) logger.log('warn', 'warning', inJobFile(r.file, w), { job_file: r.file });
  if (!r.ok) return;
  const sample = r.sample ? `; first ${counted(r.sample.rows_in, 'row')} of ${r.sample.input} scored (${r.sample.rows_rejected} rejected)` : '';
  process.stdout.write(printable(redact(`ok: ${r.file} (job ${r.job}): ${r.inputs} input file${r.inputs === 1 ? '' : 's'}, result columns ${r.outputs?.join(', ')}${sample}`)) + '\n');
}

// A problem or warning line that says which job file it belongs to (validate takes several): lines about
// data or the model name another file, or none.
export function inJobFile(file: string, line: string): string {
  const shown = displayPath(path.resolve(file));
  const names = (p: string) => new RegExp(`(^|[\\s(])${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[\\s:),])`).test(line);
  return names(shown) || names(file) ? line : `${shown}: ${line}`;
}
