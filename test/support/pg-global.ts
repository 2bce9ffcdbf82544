// The suite's PostgreSQL server, one per run, started in vitest's own process the first time a test file asks
// for it (a run of files that need no database starts none) and stopped by pid when the run ends. Test files
// ask by creating `want` in the server directory this setup provides, and read `server.json` (or `failed`).
// Servers that a killed earlier run left behind are stopped and removed first.
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { cleanStalePgServers, createServerDir, FAILED_FILE, SERVER_FILE, startPgServer, WANT_FILE, type PgServer } from './pg-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The directory of this run's PostgreSQL server (see test/support/pg.ts). */
    pgServerDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await cleanStalePgServers();
  const dir = createServerDir();
  project.provide('pgServerDir', dir);
  let starting: Promise<PgServer | undefined> | undefined;
  const timer = setInterval(() => {
    if (starting || !existsSync(path.join(dir, WANT_FILE))) return;
    starting = startPgServer(dir).then(
      (server) => {
        publish(path.join(dir, SERVER_FILE), JSON.stringify(server.info));
        return server;
      },
      (err: unknown) => {
        publish(path.join(dir, FAILED_FILE), err instanceof Error ? err.message : String(err));
        return undefined;
      },
    );
  }, 50);
  return async () => {
    clearInterval(timer);
    const server = await starting;
    if (server) await server.stop();
    else rmSync(dir, { recursive: true, force: true });
  };
}

// Write a file whole under its name (test files poll for it: they must never read half of it).
function publish(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}
