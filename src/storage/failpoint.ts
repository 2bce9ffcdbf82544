// Test hooks at the steps of writing a file, so tests can fail or stop a run at exactly one step instead of
// hoping a timer lands in a window of microseconds. Outside tests nothing is armed and failpoint() returns at
// once.
// - A spawned CLI: `SERVE_BATCH_FAILPOINT=<name>:<part>:<ms>` makes the process wait <ms> at step <name> of
//   the file whose path contains <part>, after saying so on stderr (test/cli/kill.test.ts SIGKILLs it there).
// - In process (tests through runJob()): armFailpoint() makes a step fail as the disk would (an I/O error), or
//   runs a callback there (a stop signal), at its first hit or a later one; traceFailpoints() lists the steps
//   a run takes, so a test can fail each in turn.
import { setTimeout as sleep } from 'node:timers/promises';

/** The steps of a local file sink: opening its temporary file, a write, a rollback to a mark, the commit
 *  (before anything of it is done), and the moment just before its rename. */
export type FailpointName = 'open' | 'write' | 'rollback' | 'commit' | 'before-rename';

export interface Armed {
  name: FailpointName;
  /** A part of the target's path. */
  part: string;
  /** Which hit of that step on a matching target acts (1: the first). */
  hit?: number;
  /** 'fail': the step fails with an I/O error; a function: it is called, and the step goes on. */
  action: 'fail' | (() => void);
}

const fromEnv = parse(process.env.SERVE_BATCH_FAILPOINT);
let armed: (Armed & { hits: number }) | undefined;
let tracer: ((name: FailpointName, target: string) => void) | undefined;

function parse(raw: string | undefined): { name: string; part: string; ms: number } | undefined {
  const m = raw ? /^([a-z-]+):(.*):(\d+)$/.exec(raw) : null;
  return m ? { name: m[1], part: m[2], ms: Number(m[3]) } : undefined;
}

// Arm one failpoint in this process until disarmed (the returned function).
export function armFailpoint(a: Armed): () => void {
  const mine = { ...a, hits: 0 };
  armed = mine;
  return () => {
    if (armed === mine) armed = undefined;
  };
}

// Tell `trace` every step taken in this process until stopped (the returned function).
export function traceFailpoints(trace: (name: FailpointName, target: string) => void): () => void {
  tracer = trace;
  return () => {
    if (tracer === trace) tracer = undefined;
  };
}

// Step `name` of writing `target`: wait, fail or call back if a test asks for it.
export async function failpoint(name: FailpointName, target: string): Promise<void> {
  tracer?.(name, target);
  if (fromEnv && fromEnv.name === name && target.includes(fromEnv.part)) {
    process.stderr.write(`failpoint ${name} ${target}: waiting ${fromEnv.ms} ms\n`);
    await sleep(fromEnv.ms);
  }
  const a = armed;
  if (!a || a.name !== name || !target.includes(a.part) || ++a.hits !== (a.hit ?? 1)) return;
  if (a.action === 'fail') throw Object.assign(new Error('input/output error (failpoint)'), { code: 'EIO' });
  a.action();
}
