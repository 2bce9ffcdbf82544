// Log lines on stderr: text on a TTY, JSON lines otherwise (or as asked with --log-format). stdout is kept
// for results (`--output -`, `--json`, reports). Values from the environment are hidden (util/redact.ts).
import { redact, redactDeep } from '../util/redact.js';

export type LogFormat = 'text' | 'json';
export type Level = 'info' | 'warn' | 'error';

export interface Logger {
  readonly format: LogFormat;
  log(level: Level, event: string, message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  format?: LogFormat;
  stream?: NodeJS.WriteStream;
  quiet?: boolean;
  /** Text lines start with the time (the scheduler's log is read long after the fact). */
  timestamps?: boolean;
}

// The default format for a stream: text for people, JSON for machines.
function defaultLogFormat(stream: NodeJS.WriteStream = process.stderr): LogFormat {
  return stream.isTTY ? 'text' : 'json';
}

function useColor(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
}

export function createLogger(o: LoggerOptions = {}): Logger {
  const stream = o.stream ?? process.stderr;
  const format = o.format ?? defaultLogFormat(stream);
  const color = useColor(stream);
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return {
    format,
    log(level, event, message, fields = {}) {
      if (o.quiet && level === 'info') return;
      message = redact(message);
      if (format === 'json') {
        stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, event, msg: message, ...redactDeep(fields) })}\n`);
        return;
      }
      const prefix = level === 'error' ? paint('31', 'error: ') : level === 'warn' ? paint('33', 'warning: ') : '';
      const time = o.timestamps ? `${paint('2', new Date().toISOString())} ` : '';
      stream.write(`${time}${prefix}${printable(message)}\n`);
    },
  };
}

// A text line as it may reach a terminal: control characters (a newline in a file name would start a forged
// log line, an escape sequence would drive the terminal) shown as escapes: `\n`, `\x1b`.
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

// C0 controls but the tab, DEL, and C1 controls (U+0080–U+009F: 0x9b starts an escape sequence too).
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

