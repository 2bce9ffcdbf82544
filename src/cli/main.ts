// The serve-batch command line: parses arguments, calls the core, prints through reporters and sets the
// exit code. The only layer that prints.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { exitCodeFor, exitCodeOf, messageOf, SbError } from '../errors.js';
import { ORT_VERSION } from '../model/ort-version.js';
import { endBySignal, leftRunning } from '../util/abandon.js';
import { DEFAULT_GRACE, parseDuration } from '../util/duration.js';
import { VERSION } from '../version.js';
import { reportError } from './report-error.js';
import { createLogger, type LogFormat } from './logger.js';
import { endSignalFor } from './signals.js';
import { guardStdio } from './stdio.js';
import { redact } from '../util/redact.js';

// Commands are loaded when used: `next`, `--version` and the scheduler process do not need ONNX Runtime.

interface GlobalOptions {
  logFormat?: LogFormat;
  debug?: boolean;
}

// The command line; each command's action hands its exit code to `exit`.
export function program(exit: (code: number) => void): Command {
  const p = new Command('serve-batch')
    .description('Scheduled batch prediction with ONNX models: job files in, result tables out.')
    .version(versionLine(), '-V, --version')
    .addOption(new Option('--log-format <format>', 'log lines as text or JSON (default: text on a TTY, json otherwise)').choices(['text', 'json']))
    .option('--debug', 'show stack traces for internal errors')
    .showHelpAfterError('(run serve-batch --help for usage)')
    // Global options (--log-format, --debug) are listed in every command's --help too.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });

  p.command('run')
    .description('score every input of each job once and write the result tables')
    .argument('<job...>', 'job files (.yaml)')
    .option('--input <path>', "score this file instead of input.path ('-' = stdin)")
    .option('--output <path>', "write results here instead of output.path ('-' = stdout)")
    .addOption(new Option('--format <format>', 'output format when --output has no telling extension (e.g. -)').choices(['csv', 'tsv', 'jsonl', 'parquet']))
    .addOption(new Option('--input-format <format>', 'input format when --input has no telling extension (e.g. -)').choices(['csv', 'tsv', 'jsonl', 'parquet']))
    .option('--limit <n>', 'score only the first N rows of each input', positiveInt)
    .option('--dry-run', 'validate and list what would be written; write nothing')
    .option('--reprocess', 'incremental jobs: score every input again, even those the ledger says were scored (and update the ledger)')
    .option('--shard <i/N>', 'score only worker i of N (0 ≤ i < N): a deterministic share of the inputs; merge combines the N results')
    .option('--shards <N>', 'the number of workers, with the index from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs); default: SERVE_BATCH_SHARDS')
    .option('--timeout <duration>', "fail a run that takes longer (e.g. 30m), instead of the job's timeout", durationMs)
    .option('--json', 'print the run record as JSON on stdout')
    .option('--no-notify', "send none of the job's notices (notify:), e.g. for a run by hand")
    .option('-q, --quiet', 'print only warnings and errors')
    .action(async (jobs: string[], o, cmd: Command) => {
      exit(await (await import('./run.js')).runCommand(jobs, { ...cmd.optsWithGlobals(), ...o }));
    });

  p.command('merge')
    .description("check that every shard of a sharded run finished and reconciled, and write their combined result (what one unsharded run writes)")
    .argument('<job>', 'the job file (.yaml) the shards ran')
    .option('--shards <N>', 'how many shards ran (default: SERVE_BATCH_SHARDS)')
    .option('--output <path>', 'write the combined result here (default: output.path with {shard} as "all")')
    .option('--json', 'print the merge record as JSON on stdout')
    .option('-q, --quiet', 'print only warnings and errors')
    .action(async (job: string, o, cmd: Command) => {
      exit(await (await import('./merge.js')).mergeCommand(job, { ...cmd.optsWithGlobals(), ...o }));
    });

  p.command('profile')
    .description("profile a baseline (the training set, a known-good day) through the job's readers and model: the reference that monitor: compares each run with")
    .argument('<job>', 'the job file (.yaml)')
    .requiredOption('-o, --output <file>', "write the profile here (JSON; '-' = stdout)")
    .option('--input <path>', "profile this file instead of input.path ('-' = stdin)")
    .addOption(new Option('--input-format <format>', 'input format when --input has no telling extension (e.g. -)').choices(['csv', 'tsv', 'jsonl', 'parquet']))
    .option('-q, --quiet', 'print only warnings and errors')
    .action(async (job: string, o, cmd: Command) => {
      exit(await (await import('./profile.js')).profileCommand(job, { ...cmd.optsWithGlobals(), ...o }));
    });

  p.command('validate')
    .description('check job files, their models and the first rows of their data; write nothing')
    .argument('<job...>', 'job files (.yaml)')
    .option('--json', 'print the reports as JSON on stdout')
    .action(async (jobs: string[], o, cmd: Command) => {
      exit(await (await import('./validate.js')).validateCommand(jobs, { ...cmd.optsWithGlobals(), ...o }));
    });

  p.command('inspect')
    .description("show a model's inputs, outputs, opsets and metadata, with a starter features/predictions snippet")
    .argument('<model>', 'an .onnx file')
    .option('--json', 'print as JSON')
    .action(async (model: string, o, cmd: Command) => {
      exit(await (await import('./inspect.js')).inspectCommand(model, { ...cmd.optsWithGlobals(), ...o }));
    });

  p.command('init')
    .description("write a starter job file from a model and a sample of the data (matched by the sample's header)")
    .requiredOption('--model <model>', 'the .onnx file')
    .requiredOption('--input <sample>', 'a sample of the data to score: CSV/TSV (its header names the columns), JSON Lines or Parquet')
    .option('-o, --output <job.yaml>', 'write the job here instead of standard output')
    .option('--force', 'replace an existing -o file')
    .action(async (o, cmd: Command) => {
      exit(await (await import('./init.js')).initCommand({ ...cmd.optsWithGlobals(), ...o }));
    });

  p.command('schedule')
    .description('run the scheduler: fire every job that has a schedule, each run in its own process, until SIGTERM/SIGINT; SIGHUP reloads the job files')
    .argument('[paths...]', 'job files or directories of them (default: ./jobs)')
    .option('--grace <duration>', 'on SIGTERM/SIGINT, how long running jobs may take to finish before they are stopped', DEFAULT_GRACE)
    .option('--http <address>', 'serve /healthz, /readyz, /metrics, a JSON API and a status page on HOST:PORT (e.g. 127.0.0.1:9464; a port alone is 127.0.0.1); default: SERVE_BATCH_HTTP, else off')
    .option('--http-token <token>', 'allow "run now" (POST /api/jobs/<job>/run) with this bearer token, 16 characters or more; default: SERVE_BATCH_HTTP_TOKEN (not visible in the process list)')
    .action(async (paths: string[], o, cmd: Command) => {
      exit(await (await import('./schedule.js')).scheduleCommand(paths, { ...cmd.optsWithGlobals(), ...o }));
    });

  p.command('next')
    .description("show the next fire times of a job's schedule, in its time zone and in UTC (exactly what `schedule` will do)")
    .argument('<job>', 'a job file (.yaml) with a schedule')
    .option('-n, --count <n>', 'how many fires to show', countOf(1000), 5)
    .option('--from <instant>', 'plan from this ISO 8601 instant instead of now, e.g. 2025-03-07T12:00:00Z')
    .option('--json', 'print {"job", "timezone", "fires": [{"utc", "local"}]} on stdout')
    .action(async (job: string, o, cmd: Command) => {
      exit(await (await import('./next.js')).nextCommand(job, { ...cmd.optsWithGlobals(), ...o }));
    });
  // A usage error points at the help of the command it was made in.
  for (const c of p.commands) c.showHelpAfterError(`(run serve-batch ${c.name()} --help for usage)`);
  return p;
}

// What --version prints: serve-batch's version and the runtimes that decide its results (what a bug report needs;
// a run record's `versions` holds the same three).
function versionLine(): string {
  return `serve-batch ${VERSION} (onnxruntime-node ${ORT_VERSION}, Node.js ${process.version})`;
}

// A parser for a count from 1 to max.
function countOf(max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`give a whole number from 1 to ${max}.`);
    return n;
  };
}

function durationMs(v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('give a duration longer than 0, like 90, 30s, 5m or 1h30m.');
  return ms;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('give a whole number of rows, 1 or more.');
  return n;
}

// Entry point: run the program and map every failure to a one-line message and an exit code (exitCodeOf).
// `build` makes the program (tests add commands to it).
export async function main(argv: string[], build: typeof program = program): Promise<number> {
  guardStdio();
  let code = 0;
  const p = build((c) => (code = c));
  // A mistake in a global option (`run job.yaml --log-format yaml`) is reported by the program itself: it
  // points at the help of the command it was made in too.
  const command = argv.slice(2).find((a) => p.commands.some((c) => c.name() === a));
  if (command) p.showHelpAfterError(`(run serve-batch ${command} --help for usage)`);
  try {
    await p.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // No command at all: the usage is shown on stderr, as for any other mistake; `serve-batch help` is asked for.
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : exitCodeFor('USAGE');
      return exitCodeFor('USAGE');
    }
    const logger = createLogger({ format: (p.opts() as GlobalOptions).logFormat });
    if (err instanceof SbError) return reportError(logger, err);
    logger.log('error', 'internal_error', `internal error: ${messageOf(err)} (please report this; --debug shows the stack)`);
    if ((p.opts() as GlobalOptions).debug) process.stderr.write(redact(`${(err as Error).stack}\n`));
    return exitCodeOf(err);
  }
}

// The process's entry (bin/serve-batch.js). A thread still inside a call that never returned (a model given up
// on after a signal, a timeout or validate's bound) keeps the process from exiting: it then ends by a signal,
// everything else being done.
export async function runCli(argv: string[]): Promise<void> {
  const code = await main(argv);
  if (leftRunning().length > 0) {
    // A container's process 1 ignores signals it has no handler for: this one would not end.
    if (process.pid === 1) process.stderr.write('serve-batch is process 1 and cannot end itself while a model call is still running: run it under an init (docker run --init, tini); stop the container to end it\n');
    endBySignal(endSignalFor(code));
  }
  process.exitCode = code;
}
