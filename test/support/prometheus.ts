// A strict reader of the Prometheus text exposition for tests: every line must be a HELP, a TYPE or a
// sample of the family declared before it; each family is declared once; label values are unescaped.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: string;
  samples: Sample[];
}

const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

// The labels of `{a="x",b="y\"z"}`'s inside.
function labelsOf(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new Error(`bad labels in: ${line}`);
    out[m[1]] = m[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    at = re.lastIndex;
  }
  return out;
}

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (help || type) {
      const name = (help ?? type)![1];
      if (!current || current.name !== name) {
        if (families.has(name)) throw new Error(`family ${name} declared twice`);
        current = { name, help: '', type: 'untyped', samples: [] };
        families.set(name, current);
      }
      if (help) current.help = help[2];
      else current.type = type![2];
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const suffixes = SUFFIXES[current?.type ?? ''] ?? [''];
    if (!current || !suffixes.some((s) => m[1] === current!.name + s)) throw new Error(`sample outside its family: ${line}`);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value: ${line}`);
    current.samples.push({ name: m[1], labels: m[2] ? labelsOf(m[2], line) : {}, value });
  }
  return families;
}
