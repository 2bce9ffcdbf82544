// openModelForJob(): the one way `run`, `validate` and the scheduler's start-up check open a job's model —
// the same session options, the same plan, the same refusals, with real ONNX Runtime sessions.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { parseJob } from '../../src/job/load.js';
import { planRun, runSpecOf, type RunPlan } from '../../src/pipeline/plan.js';
import { probeWidths } from '../../src/pipeline/probe.js';
import { rejectsSink } from '../../src/pipeline/rejects.js';
import { scoreInput } from '../../src/pipeline/score-input.js';
import type { ResultChunk } from '../../src/table/result.js';
import type { TableWriter, WriterMark } from '../../src/table/writer.js';
import { openModelForJob } from '../../src/run/open-model.js';
import { runJob } from '../../src/run/run-job.js';
import { checkJobModel, validateJob } from '../../src/run/validate.js';
import { model } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

// A job over needs20 (a tree ensemble that reads feature 19) with these feature columns.
function needs20(columns: string[], extra = '') {
  const d = tempDir('sb-open-');
  const header = columns.join(',');
  writeFileSync(path.join(d, 'in.csv'), `${header}\n${columns.map(() => '0').join(',')}\n`);
  const text = `name: open\nmodel: ${model('needs20')}\ninput: in.csv\nfeatures: { columns: [${columns.join(', ')}] }\noutput: out.csv\nstate_dir: state\n${extra}`;
  writeFileSync(path.join(d, 'job.yaml'), text);
  return { d, job: parseJob(text, path.join(d, 'job.yaml')) };
}

const TWENTY = Array.from({ length: 20 }, (_, i) => `f${i}`);
const REFUSED = 'the model refuses the features it is given: One path in the graph requests feature 19 but input tensor has 2 features — the model needs at least 20 features, features.columns lists 2 (at features.columns)';

// A writer that keeps the chunks it is given.
function keeping(chunks: ResultChunk[]): TableWriter {
  return {
    write: async (chunk) => void chunks.push(chunk),
    commit: async () => undefined,
    abort: async () => undefined,
    get rows() {
      return chunks.reduce((n, c) => n + c.rows, 0);
    },
    streamed: false,
    mark: async (): Promise<WriterMark> => ({ bytes: 0, rows: 0, headerDone: true }),
    rollback: async () => false,
  };
}

// Freeze a value and everything in it.
function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

describe('openModelForJob', () => {
  it("loads the model with the job's session options, inter_threads included", async () => {
    const { job } = needs20(TWENTY);
    const withInter = { ...job, model: { ...job.model, threads: 1, interThreads: 2 } };
    const opened = await openModelForJob(withInter, { bounds: {} });
    try {
      expect([opened.model.threads, opened.model.interThreads]).toEqual([1, 2]);
      expect(opened.warnings).toEqual([]);
    } finally {
      await opened.model.close();
    }
  });

  it('refuses too few features for the model naming the YAML path, after the model loaded', async () => {
    const { job } = needs20(['a', 'b']);
    let loaded: { close(): Promise<void> } | undefined;
    const err = await openModelForJob(job, { bounds: {}, onLoad: (m) => (loaded = m) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SbError);
    expect((err as SbError).describe()).toBe(REFUSED);
    expect(loaded).toBeDefined();
  });

  it('run, validate and the scheduler\'s start-up check refuse it with the same line', async () => {
    const { d, job } = needs20(['a', 'b']);
    const record = await runJob(job);
    const report = await validateJob(path.join(d, 'job.yaml'));
    const check = await checkJobModel(job);
    expect([record.status, record.error]).toEqual(['invalid', REFUSED]);
    expect(report.problems).toEqual([REFUSED]);
    expect(check).toEqual({ problems: [REFUSED], warnings: [] });
  });

  it('gives a complete plan that nothing edits afterwards: an input scores through it frozen', async () => {
    const { d, job } = needs20(TWENTY);
    const opened = await openModelForJob(job, { bounds: {} });
    try {
      const plan = deepFreeze(opened.plan);
      expect([plan.unresolved, plan.columns]).toEqual([[], [{ kind: 'values', output: 'variable', base: 'variable', names: ['variable'] }]]);
      const written: ResultChunk[] = [];
      const c = await scoreInput(path.join(d, 'in.csv'), 'in.csv', 'csv', { job, plan, model: opened.model, runSpec: runSpecOf(plan), writer: keeping(written), rejects: rejectsSink(undefined, ',') });
      expect([c.rowsIn, c.rowsOut, written.map((w) => w.columns.map((x) => x.name))]).toEqual([1, 1, [['variable']]]);
    } finally {
      await opened.model.close();
    }
  });
});

describe('probeWidths', () => {
  it('returns a completed plan and leaves the one it was given as it was', async () => {
    const { job } = needs20(TWENTY);
    const opened = await openModelForJob(job, { bounds: {} });
    try {
      // The plan of a model whose output width were not declared: the probe's one call learns it.
      const draft: RunPlan = deepFreeze({ ...planRun(job, opened.model), columns: [{ kind: 'values', output: 'variable', base: 'variable', names: [] }], unresolved: ['variable'] });
      const plan = await probeWidths(opened.model, draft, job);
      expect([plan.columns, plan.unresolved]).toEqual([[{ kind: 'values', output: 'variable', base: 'variable', names: ['variable_0'] }], []]);
      expect([draft.columns[0], draft.unresolved]).toEqual([{ kind: 'values', output: 'variable', base: 'variable', names: [] }, ['variable']]);
    } finally {
      await opened.model.close();
    }
  });
});
