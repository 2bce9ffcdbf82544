// One error taxonomy for everything a user can cause. The CLI maps `code` to an exit code in one place
// (exitCodeOf); the core throws or returns SbError and never prints.

export type ErrorCode =
  | 'USAGE' // bad command line
  | 'JOB_INVALID' // job file: YAML, schema, environment variables
  | 'PATH_NOT_FOUND' // a literal input, model or directory that does not exist
  | 'STORAGE_ACCESS' // object storage refuses this configuration: credentials, permissions, region, endpoint
  | 'STORAGE_UNAVAILABLE' // object storage cannot be reached or keeps failing before the run starts: try again later
  | 'MODEL_INVALID' // the model file cannot be read or loaded
  | 'MODEL_MISMATCH' // job and model disagree (names, types, feature counts)
  | 'OUTPUT_INVALID' // output template problems found before reading data
  | 'INPUT_FAILED' // an input could not be read or parsed as a whole
  | 'REJECT_LIMIT' // rejected rows above errors.max_rejected
  | 'MODEL_RUNTIME' // session.run failed on real rows
  | 'WRITE_FAILED' // a result or rejects file could not be written
  | 'OUTPUT_CLOSED' // the reader of a stream output (standard output, a pipe, a FIFO) closed it
  | 'RECONCILE' // rows_in != rows_out + rows_rejected
  | 'SHARDS' // merge: a shard is missing, failed, or does not belong with the others
  | 'LOCKED' // another run of the same job holds its lock
  | 'ALERT' // monitor: a column drifted past fail_at (or its missing share rose too far); results were written
  | 'DB_INVALID' // the database refuses what the job asks: credentials, an unknown database, table or column, SQL errors in the query, missing privileges, a target table that does not fit
  | 'DB_UNREACHABLE' // the database server cannot be reached (after retries): down, restarting, too many connections
  | 'INTERRUPTED'; // SIGINT/SIGTERM

export interface ErrorContext {
  file?: string;
  line?: number;
  column?: number;
  /** Dotted path into the job file, e.g. `input.csv.delimiter`. */
  yamlPath?: string;
  /** Further problems of the same kind, one line each (schema validation reports all at once). */
  problems?: string[];
}

export class SbError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SbError';
    this.code = code;
    this.context = context;
  }

  /** The one-line form: `file:line:column: message (at a.b)`. */
  describe(): string {
    return describeProblem(this.message, this.context);
  }
}

const EXIT_CODES: Record<ErrorCode, number> = {
  USAGE: 2,
  JOB_INVALID: 2,
  PATH_NOT_FOUND: 2,
  STORAGE_ACCESS: 2,
  MODEL_INVALID: 2,
  MODEL_MISMATCH: 2,
  OUTPUT_INVALID: 2,
  INPUT_FAILED: 1,
  STORAGE_UNAVAILABLE: 1,
  REJECT_LIMIT: 1,
  MODEL_RUNTIME: 1,
  WRITE_FAILED: 1,
  // 128 + SIGPIPE: what a shell reports for a tool a closed pipe stopped, so `set -o pipefail` sees the usual code.
  OUTPUT_CLOSED: 141,
  RECONCILE: 1,
  SHARDS: 1,
  LOCKED: 3,
  // Completed with alerts: the results are written and usable, but cron mail and CI steps should notice.
  ALERT: 4,
  // Fixing it takes a change to the job or to the database's grants: running again as it is cannot help.
  DB_INVALID: 2,
  // Often over in minutes (a restart, a failover): exit 1, so schedule.retries runs the job again.
  DB_UNREACHABLE: 1,
  INTERRUPTED: 130,
};

// The process exit code for an error; anything that is not an SbError is a bug and exits 1. Every command
// returns through this table (README "Exit codes").
export function exitCodeOf(err: unknown): number {
  return err instanceof SbError ? exitCodeFor(err.code) : 1;
}

// The exit code of an error code, for outcomes a command reports without throwing (validate's problems).
export function exitCodeFor(code: ErrorCode): number {
  return EXIT_CODES[code];
}

// `file:line:column: message (at yaml.path)`, leaving out whatever part is unknown.
export function describeProblem(message: string, where: ErrorContext): string {
  let prefix = '';
  if (where.file) {
    prefix = where.file;
    if (where.line !== undefined) {
      prefix += `:${where.line}`;
      if (where.column !== undefined) prefix += `:${where.column}`;
    }
    prefix += ': ';
  }
  const at = where.yamlPath ? ` (at ${where.yamlPath})` : '';
  return `${prefix}${message}${at}`;
}

// Narrow an unknown thrown value to a message without a stack.
export function messageOf(err: unknown): string {
  if (err instanceof SbError) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}
