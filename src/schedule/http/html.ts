// HTML built with a tagged template that escapes every interpolated value unless it is already HTML (made
// by `html` itself): a job name, a path or an error line can only ever become text.

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// Text or an attribute value made safe to put between tags or in a quoted attribute.
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

type Value = Html | string | number | null | undefined | false | Value[];

// One interpolated value as HTML (null, undefined and false are nothing; arrays are joined).
function part(v: Value): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(part).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

// html`<td>${name}</td>`: the template's own text as is, every value escaped.
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1];
  return new Html(out);
}

// JSON inside <script type="application/json">: `<` written as \u003c so no `</script>` or `<!--` can end it.
export function jsonScript(data: unknown): Html {
  const text = JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return new Html(text);
}
