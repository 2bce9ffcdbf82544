// Database URLs as they may be shown in messages, logs and run records: the password never appears.

const SECRET_PARAM = /([?&;\s]|^)([a-z_]*pass[a-z_]*)=([^&;\s]*)/gi;

// `postgres://user:***@host:5432/db`: the password in the user part and any `password=`-like parameter
// replaced by `***`. Passwords often hold characters a URL should escape (`@`, `/`, `#`), so the user part
// runs to the last `@`; a URL that cannot be parsed is redacted the same way, never shown as it is.
export function redactUrl(url: string): string {
  let out = url;
  const scheme = out.indexOf('://');
  if (scheme !== -1) {
    const rest = out.slice(scheme + 3);
    const at = rest.lastIndexOf('@');
    if (at !== -1) {
      const user = rest.slice(0, at);
      const colon = user.indexOf(':');
      if (colon !== -1) out = `${out.slice(0, scheme + 3)}${user.slice(0, colon)}:***@${rest.slice(at + 1)}`;
    }
  }
  return out.replace(SECRET_PARAM, (_m, lead: string, name: string) => `${lead}${name}=***`);
}
