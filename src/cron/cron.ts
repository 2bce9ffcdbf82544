// Parsing and validation of crontab(5) expressions with Vixie cron semantics:
// 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), macros,
// month/day names. No third-party dependency.
import { matchesSomeDate } from './calendar.js';

export interface CronSpec {
  /** The expression as given (trimmed). */
  readonly source: string;
  /** True for the 6-field form (seconds first); 5-field specs fire at second 0. */
  readonly hasSeconds: boolean;
  /** Allowed values per field, sorted ascending, without duplicates. */
  readonly seconds: readonly number[]; // 0-59
  readonly minutes: readonly number[]; // 0-59
  readonly hours: readonly number[]; // 0-23
  readonly daysOfMonth: readonly number[]; // 1-31
  readonly months: readonly number[]; // 1-12
  readonly daysOfWeek: readonly number[]; // 0-6, 0 = Sunday (7 is folded into 0)
  /** Day-of-month field does not start with '*' (Vixie: DOM_STAR not set). */
  readonly domRestricted: boolean;
  /** Day-of-week field does not start with '*' (Vixie: DOW_STAR not set). */
  readonly dowRestricted: boolean;
  /**
   * Vixie "fixed-time" job: none of the second/minute/hour fields starts with '*'
   * (Vixie: neither MIN_STAR nor HR_STAR). Decides the DST behaviour, see plan.ts.
   */
  readonly fixedTime: boolean;
}

interface FieldDef {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[]; // names[i] stands for value min + i
  readonly nameKind?: string;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const SECOND: FieldDef = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldDef = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldDef = { name: 'hour', min: 0, max: 23 };
const DOM: FieldDef = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldDef = { name: 'month', min: 1, max: 12, names: MONTH_NAMES, nameKind: 'month name (JAN-DEC)' };
// Vixie cron accepts 0-7 for day-of-week, 7 being Sunday again.
const DOW: FieldDef = { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, nameKind: 'day name (SUN-SAT)' };

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface Analysis {
  spec?: CronSpec;
  errors: string[];
}

// Every problem with `expr` (empty when it is a valid cron expression that fires at some time).
export function validateCron(expr: string): string[] {
  return analyze(expr).errors;
}

// The parsed form of `expr`; throws an Error naming the first problem.
export function parseCron(expr: string): CronSpec {
  const { spec, errors } = analyze(expr);
  if (errors.length > 0 || !spec) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
    throw new Error(`invalid cron expression "${String(expr)}": ${errors[0]}${more}`);
  }
  return spec;
}

// Parses `expr`, collecting all problems rather than stopping at the first.
function analyze(expr: string): Analysis {
  if (typeof expr !== 'string') return { errors: ['cron expression must be a string'] };
  const source = expr.trim();
  if (source === '') return { errors: ['cron expression is empty'] };
  let text = source;
  if (source.startsWith('@')) {
    const key = source.toLowerCase();
    if (key === '@reboot') return { errors: ['@reboot is not supported: it has no fire times to plan'] };
    const expansion = MACROS[key];
    if (expansion === undefined) {
      return { errors: [`unknown macro "${source}" (expected one of ${Object.keys(MACROS).join(', ')})`] };
    }
    text = expansion;
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return { errors: [`expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got ${fields.length}`] };
  }
  const hasSeconds = fields.length === 6;
  const defs = hasSeconds ? [SECOND, MINUTE, HOUR, DOM, MONTH, DOW] : [MINUTE, HOUR, DOM, MONTH, DOW];
  const errors: string[] = [];
  const sets = fields.map((f, i) => parseField(f, defs[i], i + 1, errors));
  if (errors.length > 0) return { errors };
  const [sec, min, hour, dom, mon, dow] = hasSeconds ? sets : [[0], ...sets];
  const [secText, minText, hourText, domText, , dowText] = hasSeconds ? fields : ['0', ...fields];
  const spec: CronSpec = {
    source,
    hasSeconds,
    seconds: sec,
    minutes: min,
    hours: hour,
    daysOfMonth: dom,
    months: mon,
    daysOfWeek: [...new Set(dow.map((d) => d % 7))].sort((a, b) => a - b),
    // Vixie cron sets DOM_STAR/DOW_STAR when the field's first character is '*', so '*/2' counts
    // as unrestricted for the OR rule even though it restricts the days.
    domRestricted: !domText.startsWith('*'),
    dowRestricted: !dowText.startsWith('*'),
    // Vixie cron's MIN_STAR/HR_STAR test, extended to the optional seconds field.
    fixedTime: ![secText, minText, hourText].some((f) => f.startsWith('*')),
  };
  if (!matchesSomeDate(spec)) {
    const [domF, monF, dowF] = fields.slice(hasSeconds ? 3 : 2);
    errors.push(`never fires: no calendar date matches day-of-month "${domF}", month "${monF}" and day-of-week "${dowF}"`);
  }
  return { spec, errors };
}

// Allowed values of one field (sorted, unique); problems are appended to `errors`.
function parseField(text: string, def: FieldDef, position: number, errors: string[]): number[] {
  const where = `field ${position} (${def.name})`;
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') {
      errors.push(`${where} has an empty list item in "${text}"`);
      continue;
    }
    const parts = item.split('/');
    if (parts.length > 2) {
      errors.push(`${where} item "${item}" has more than one "/"`);
      continue;
    }
    const [rangeText, stepText] = parts;
    let ok = true;
    let step = 1;
    if (stepText !== undefined) {
      step = /^\d+$/.test(stepText) ? Number(stepText) : NaN;
      if (!(step >= 1 && step <= def.max - def.min + 1)) {
        errors.push(`${where} step "${stepText}" must be an integer from 1 to ${def.max - def.min + 1}`);
        ok = false;
      }
    }
    let lo = def.min;
    let hi = def.max;
    if (rangeText !== '*') {
      const bounds = rangeText.split('-');
      if (bounds.length > 2) {
        errors.push(`${where} range "${rangeText}" has more than one "-"`);
        continue;
      }
      const nums = bounds.map((b) => parseValue(b, def, where, errors));
      if (nums.some((n) => n === undefined)) continue;
      lo = nums[0] as number;
      // 'a/n' means a through the field maximum in steps of n; a bare 'a' is just a.
      hi = nums.length === 2 ? (nums[1] as number) : stepText !== undefined ? def.max : lo;
      if (lo > hi) {
        errors.push(`${where} range ${rangeText} is reversed (start ${lo} is after end ${hi})`);
        ok = false;
      }
    }
    if (!ok) continue;
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

// One number or name of a field, or undefined after reporting why it is not acceptable.
function parseValue(text: string, def: FieldDef, where: string, errors: string[]): number | undefined {
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else {
    const index = def.names?.indexOf(text.toUpperCase()) ?? -1;
    if (index < 0) {
      const kind = def.nameKind ? `a number or ${def.nameKind}` : 'a number';
      errors.push(`${where} value "${text}" is not ${kind}`);
      return undefined;
    }
    value = def.min + index;
  }
  if (value < def.min || value > def.max) {
    errors.push(`${where} value ${value} is out of range ${def.min}-${def.max}`);
    return undefined;
  }
  return value;
}
