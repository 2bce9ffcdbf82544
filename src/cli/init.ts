// `serve-batch init --model M --input SAMPLE [-o job.yaml]`: a starter job mapped from the model's inputs and
// the sample's header. Prints the job (or writes it with -o) and says on stderr what it could not match.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SbError } from '../errors.js';
import { readSample } from '../io/sample.js';
import { makeDirs } from '../storage/local/target.js';
import { errnoReason } from '../util/errno.js';
import { starterJob } from '../run/init.js';
import { parseModel, readModelFile } from '../model/session.js';
import { createLogger, type LogFormat } from './logger.js';
import { reportError, withoutModelPath } from './report-error.js';
import { printOut } from './stdio.js';

/** Why the job file cannot be written. */
const UNWRITABLE_JOB = { EEXIST: 'it already exists (add --force to replace it)', EACCES: 'permission denied', ENOTDIR: 'a parent of it is a file' };

export interface InitOptions {
  model: string;
  input: string;
  output?: string;
  force?: boolean;
  logFormat?: LogFormat;
}

export async function initCommand(o: InitOptions): Promise<number> {
  const logger = createLogger({ format: o.logFormat });
  try {
    if (o.output && o.output !== '-' && existsSync(o.output) && !o.force) {
      throw new SbError('USAGE', `${o.output} already exists; choose another -o or add --force to replace it`);
    }
    const { bytes } = await readModelFile(o.model);
    const info = parseModel(o.model, bytes);
    const sample = await readSample(o.input).catch((err: unknown) => {
      // The sample is an argument, not a job's data: one that cannot be read is a usage error (exit 2).
      throw err instanceof SbError && err.code === 'INPUT_FAILED' ? new SbError('USAGE', err.message, err.context, { cause: err }) : err;
    });
    // Paths in a job file are relative to the job file; on stdout, to the working directory.
    const base = o.output && o.output !== '-' ? path.dirname(path.resolve(o.output)) : process.cwd();
    // Relative unless that climbs to the filesystem root (the files then have nothing in common but it).
    const rel = (p: string) => {
      const r = path.relative(base, path.resolve(p)) || '.';
      const ups = r.split(path.sep).filter((x) => x === '..').length;
      return ups > 0 && ups >= base.split(path.sep).filter(Boolean).length ? path.resolve(p) : r;
    };
    const job = starterJob(info, { modelPath: rel(o.model), inputPath: rel(o.input), sample });
    if (o.output && o.output !== '-') {
      try {
        await makeDirs(path.dirname(path.resolve(o.output)));
        writeFileSync(o.output, job.yaml, { flag: o.force ? 'w' : 'wx' });
      } catch (err) {
        throw new SbError('USAGE', `cannot write ${o.output}: ${errnoReason(err, UNWRITABLE_JOB)}`);
      }
    } else if (!(await printOut(job.yaml))) {
      throw new SbError('OUTPUT_CLOSED', 'the reader of standard output closed it before the job was written');
    }
    for (const n of job.notes) logger.log('warn', 'init_note', n);
    if (job.unmatched.length) {
      logger.log('warn', 'init_unmatched', `not matched to a column of ${o.input}: ${job.unmatched.join(', ')}; edit the lines marked CHECK`, { unmatched: job.unmatched });
    }
    if (o.output && o.output !== '-') logger.log('info', 'init_written', `wrote ${o.output}; next: serve-batch validate ${o.output}`);
    return 0;
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    return reportError(logger, withoutModelPath(err));
  }
}
