// A test hook for crash tests: `SERVE_BATCH_FAILPOINT=before-rename:<part>:<ms>` makes the process wait <ms>
// just before it renames a complete temporary file onto a target whose path contains <part>,
// after saying so on stderr, so test/cli/kill.test.ts can SIGKILL it at exactly that point instead of
// hoping a timer lands in a window of microseconds. Unset (always, outside tests) it does nothing.
import { setTimeout as sleep } from 'node:timers/promises';

export type FailpointName = 'before-rename';

const spec = parse(process.env.SERVE_BATCH_FAILPOINT);

function parse(raw: string | undefined): { name: string; part: string; ms: number } | undefined {
  const m = raw ? /^([a-z-]+):(.*):(\d+)$/.exec(raw) : null;
  return m ? { name: m[1], part: m[2], ms: Number(m[3]) } : undefined;
}

// Wait at `name` for `target` if the environment asks for it.
export async function failpoint(name: FailpointName, target: string): Promise<void> {
  if (!spec || spec.name !== name || !target.includes(spec.part)) return;
  process.stderr.write(`failpoint ${name} ${target}: waiting ${spec.ms} ms\n`);
  await sleep(spec.ms);
}
