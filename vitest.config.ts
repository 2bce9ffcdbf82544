import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

// Test files that mostly wait (on the scheduler's real seconds, on child processes, on npm) rather than
// compute. Started first, they overlap the CPU-bound files instead of running alone at the end.
const WAITING = ['test/e2e/', 'test/package/', 'test/cli/kill.test.ts', 'test/cli/shard.test.ts', 'test/schedule/clock.test.ts'];

class WaitingFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const waits = (f: TestSpecification) => WAITING.some((w) => f.moduleId.includes(`/${w}`));
    return [...sorted.filter(waits), ...sorted.filter((f) => !waits(f))];
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The second starts the suite's PostgreSQL server when a test file first asks for it.
    globalSetup: ['test/global-setup.ts', 'test/support/pg-global.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than cores: a single one on 2 cores. The suite waits on child
    // processes and real time often enough that one per core is faster (2 busy cores: 153 s → 122 s).
    maxWorkers: '100%',
    // A worker runs one test file after another instead of a new process for each (2 busy cores: 122 s →
    // 94 s). Modules are still loaded afresh for every file; what a process would keep (environment, working
    // directory, signal listeners) is put back by each test, and runMain() fails a run that leaves any behind.
    isolate: false,
    sequence: { sequencer: WaitingFirst },
    // A test that asserts nothing fails.
    expect: { requireAssertions: true },
  },
});
