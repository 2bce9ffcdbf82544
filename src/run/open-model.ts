// A job's model opened for scoring: loaded with the job's session options, its run plan made and completed
// by one probe call. The one way `run`, `validate` and the scheduler's start-up check open a model, so what
// they check cannot drift apart.
import type { JobConfig } from '../job/config.js';
import type { ModelBounds } from '../model/model-thread.js';
import { loadModel, type LoadedModel } from '../model/session.js';
import { planRun, type RunPlan } from '../pipeline/plan.js';
import { probeWidths } from '../pipeline/probe.js';

export interface OpenedModel {
  model: LoadedModel;
  /** Complete when returned: output widths the model does not declare are learnt by the probe where the
   *  model answers an empty batch. */
  plan: RunPlan;
  /** What the plan found worth saying (a fixed batch dimension, outputs left out). */
  warnings: string[];
}

export interface OpenOptions {
  /** How long the model's answers are waited for (a run's stop, validate's bound). */
  bounds: ModelBounds;
  /** The model loaded, before it is planned: a record names the model even when it does not fit the job. */
  onLoad?: (model: LoadedModel) => void;
}

// Load, plan and probe; throws SbError for a model that cannot be loaded or does not fit the job (the model
// is closed then).
export async function openModelForJob(job: JobConfig, o: OpenOptions): Promise<OpenedModel> {
  const { path, threads, interThreads, optimization } = job.model;
  const model = await loadModel(path, { threads, interThreads, optimization, bounds: o.bounds });
  try {
    o.onLoad?.(model);
    const plan = await probeWidths(model, planRun(job, model), job);
    return { model, plan, warnings: plan.warnings };
  } catch (err) {
    await model.close();
    throw err;
  }
}
