// The storage one run works with: the settings of its backends (the job's `storage` block), the clients they
// open for it (opened on first use, so a run on local files opens none; closed when the run ends, also when
// it fails), and where a backend notes writes that a killed process would leave behind (the run's crash
// journal). Kept per asynchronous context (AsyncLocalStorage), so that two runs in one process each use their
// own settings and clients, and nothing has to carry them through the formats and the pipeline.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The job file's `storage` block, its `${VAR}`s expanded: plain data (it goes to the reader thread too). */
export interface StorageSettings {
  s3?: { endpoint?: string; region?: string; forcePathStyle?: boolean };
}

/** A write that stays in the store when the process dies before it ends (an unfinished multipart upload). */
export interface PendingWrite {
  /** The URL it was writing. */
  url: string;
  /** The store's id for it (an upload id). */
  id: string;
}

/** What the run does with its backends' news. */
export interface StorageHooks {
  /** A pending write began (awaited before any of its bytes are sent). */
  pendingStarted?(p: PendingWrite): Promise<void>;
  /** It ended: completed, or aborted. */
  pendingEnded?(p: PendingWrite): Promise<void>;
  /** Something the user should know that does not fail the run. */
  warn?(message: string): void;
}

interface Resource {
  close(): void | Promise<void>;
}

export class StorageScope {
  hooks: StorageHooks = {};
  private readonly resources = new Map<string, Resource>();

  constructor(readonly settings: StorageSettings) {}

  /** The scope's resource of that name (a backend's client), made on first use. */
  resource<T extends Resource>(name: string, make: () => T): T {
    let r = this.resources.get(name);
    if (!r) this.resources.set(name, (r = make()));
    return r as T;
  }

  /** Close every resource (after the run). */
  async close(): Promise<void> {
    const all = [...this.resources.values()];
    this.resources.clear();
    for (const r of all) await r.close();
  }
}

const current = new AsyncLocalStorage<StorageScope>();

// Run `fn` with its own storage scope, closed when `fn` ends (or throws).
export async function withStorage<T>(settings: StorageSettings, fn: (scope: StorageScope) => Promise<T>): Promise<T> {
  const scope = new StorageScope(settings);
  try {
    return await current.run(scope, () => fn(scope));
  } finally {
    await scope.close();
  }
}

// The scope of the running command (outside any: a default one for the process, with settings from the
// environment only, whose clients close when the process exits).
export function storageScope(): StorageScope {
  return current.getStore() ?? (processScope ??= new StorageScope({}));
}

let processScope: StorageScope | undefined;
