// URLs as logs and messages may show them: a webhook's secret is in its userinfo, path or query
// (Slack: https://hooks.slack.com/services/T000/B000/XXXX), so only the scheme, host and port are kept.

// Path words that name an endpoint, never a secret (a topic or token may be any other word).
const FIXED_WORDS = new Set(['services', 'hooks', 'hook', 'webhook', 'webhooks', 'api', 'v1', 'v2', 'v3']);

// `https://hooks.slack.com/services/***`: the URL with its userinfo, path and query replaced by `***`
// (a first path segment that is one of the usual fixed words, `services`, `hooks`, `api`..., is kept), or
// `an invalid URL`.
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'an invalid URL';
  }
  const user = url.username || url.password ? '***@' : '';
  const hidden = url.pathname.length > 1 || url.search !== '' || url.hash !== '';
  const first = /^\/([a-z0-9]+)\//.exec(url.pathname)?.[1];
  const path = !hidden ? '/' : first && FIXED_WORDS.has(first) ? `/${first}/***` : '/***';
  return `${url.protocol}//${user}${url.host}${path}`;
}

// `text` with every secret part of `raw` (the whole URL, its userinfo, path, query) replaced by its redacted
// form: for messages of other libraries, which may quote the URL they failed on.
export function scrubUrl(text: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return text.split(raw).join('***');
  }
  const parts = [raw, url.href, url.pathname.length > 1 ? url.pathname + url.search : '', url.search, url.username, url.password]
    .filter((p) => p.length > 3)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const p of parts) out = out.split(p).join(p === raw || p === url.href ? redactUrl(raw) : '***');
  return out;
}
