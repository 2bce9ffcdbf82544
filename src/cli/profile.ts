// `serve-batch profile <job.yaml> [--input PATH] -o reference.json`: the reference profile for monitor:.
import { SbError } from '../errors.js';
import type { TextFormat } from '../job/config.js';
import { loadJob } from '../job/load.js';
import { counted, displayPath } from '../util/display.js';
import { createLogger, type LogFormat } from './logger.js';
import { reportError } from './report-error.js';
import { withSignals } from './signals.js';

export interface ProfileCommandOptions {
  output: string;
  input?: string;
  inputFormat?: TextFormat;
  quiet?: boolean;
  logFormat?: LogFormat;
}

export async function profileCommand(file: string, o: ProfileCommandOptions): Promise<number> {
  const logger = createLogger({ format: o.logFormat, quiet: o.quiet });
  try {
    const job = loadJob(file);
    const { profileJob } = await import('../run/profile-job.js');
    const r = await withSignals((signal) =>
      profileJob(job, {
        output: o.output,
        input: o.input,
        inputFormat: o.inputFormat,
        signal,
        onInput: (i) => logger.log('info', 'input_profiled', `${displayPath(i.path)}: ${counted(i.rows_out, 'row')} profiled${i.rows_rejected > 0 ? `, ${i.rows_rejected.toLocaleString('en-US')} rejected` : ''}`, { job: job.name, ...i }),
      }),
    );
    for (const w of r.warnings) logger.log('warn', 'warning', w, { job: job.name });
    const where = r.file === '-' ? 'standard output' : displayPath(r.file);
    logger.log('info', 'profile_written', `job ${job.name}: profile of ${r.inputs} input${r.inputs === 1 ? '' : 's'}, ${counted(r.rows, 'row')}, ${counted(r.columns.length, 'column')} (${r.columns.join(', ')}) → ${where}`, { job: job.name, ...r });
    return 0;
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    return reportError(logger, err);
  }
}
