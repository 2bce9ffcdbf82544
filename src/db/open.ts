// A database from its URL: the URL's scheme names the backend module, loaded on first use (a job without a
// database never loads a database client).
import { SbError } from '../errors.js';
import { redactUrl } from './redact.js';
import type { Database, DatabaseOptions } from './types.js';

interface Backend {
  openDatabase(url: string, o?: DatabaseOptions): Database;
}

const BACKENDS: Record<string, () => Promise<Backend>> = {
  postgres: () => import('./postgres/index.js'),
  postgresql: () => import('./postgres/index.js'),
};

/** The URL schemes serve-batch reads and writes. */
const DATABASE_SCHEMES = Object.keys(BACKENDS);

// The scheme of a database URL (`postgres`), or undefined for anything else.
export function schemeOf(url: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  return m && BACKENDS[m[1].toLowerCase()] ? m[1].toLowerCase() : undefined;
}

// The Database for a URL; a URL of no known database is refused (exit 2) without showing its password.
export async function openDatabase(url: string, o?: DatabaseOptions): Promise<Database> {
  const scheme = schemeOf(url);
  if (!scheme) {
    throw new SbError('DB_INVALID', `not a database URL: ${redactUrl(url)} (expected ${DATABASE_SCHEMES.map((s) => `${s}://…`).join(' or ')})`);
  }
  const backend = await BACKENDS[scheme]();
  return backend.openDatabase(url, o);
}
