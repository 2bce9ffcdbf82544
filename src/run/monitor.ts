// A run's profile and drift, as the record, the log and the metrics file show them: the reference named by
// `monitor.reference` (read and checked against the run's columns before any data is read), the profile file
// beside the record (`<run_id>.profile.json`), its summary in the record, and the `monitor` section with each
// monitored column's drift and level.
import { readFile } from 'node:fs/promises';
import { redactDeep } from '../util/redact.js';
import { messageOf, SbError } from '../errors.js';
import type { DriftMetric, JobConfig, MonitorConfig } from '../job/config.js';
import { meanOf, mergeProfiles, parseProfile, profileDrift, profileText, runProfileToJson, stdOf, type InputProfile, type Profile } from '../monitor/index.js';
import { Profiler } from '../monitor/index.js';
import type { ProfileColumns } from '../pipeline/profile-stage.js';
import { openSink } from '../storage/sink.js';
import { displayPath } from '../util/display.js';
import { profilePath, type RunRecord } from './record.js';

type DriftLevel = 'ok' | 'warn' | 'fail';

/** One monitored column of the record's `monitor` section. */
interface ColumnDriftRecord {
  column: string;
  /** The drift in the job's metric (psi or js); null when it cannot be computed (see note). */
  value: number | null;
  psi: number | null;
  js: number | null;
  /** Share of missing values in this run and in the reference. */
  missing_ratio: number;
  reference_missing_ratio: number;
  level: DriftLevel;
  note?: string;
}

/** The record's `monitor` section (the scheduler's status page and metrics read it). */
export interface MonitorSection {
  reference: string;
  metric: DriftMetric;
  warn_at: number;
  fail_at: number;
  missing_rate_increase: number | null;
  /** The worst column level: fail makes the run exit 4 (completed with alerts). */
  level: DriftLevel;
  columns: ColumnDriftRecord[];
  /** One line per column above fail_at or whose missing share rose too far (these make the run exit 4). */
  alerts: string[];
  /** One line per column above warn_at only. */
  warnings: string[];
}

/** The record's summary of the run's profile. */
export interface ProfileSummary {
  /** The profile file (null when it could not be written; the record's warnings say why). */
  file: string | null;
  columns: { name: string; kind: 'number' | 'text'; count: number; missing: number; infinite?: number; mean?: number | null; std?: number | null; min?: number | null; max?: number | null; distinct?: number | null }[];
}

const REMAKE = (job: JobConfig, file: string) => `make it again with serve-batch profile ${displayPath(job.file)} -o ${displayPath(file)}`;

// The reference profile of a monitored job, checked against the columns this job profiles: a missing,
// unreadable or damaged file, a monitored column it lacks or profiles as another kind, is one JOB_INVALID line.
export async function loadReference(job: JobConfig, columns: ProfileColumns): Promise<Profile | undefined> {
  const m = job.monitor;
  if (!m) return undefined;
  const at = { yamlPath: 'monitor.reference' };
  const shown = displayPath(m.reference);
  const names = columns.specs.map((s) => s.name);
  (m.columns ?? []).forEach((c, i) => {
    if (!names.includes(c)) throw new SbError('JOB_INVALID', `monitor.columns names '${c}', which is neither a feature nor a prediction column of this job (columns: ${names.join(', ')})`, { yamlPath: `monitor.columns.${i}` });
  });
  let text: string;
  try {
    text = await readFile(m.reference, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${(err as Error).message})`;
    throw new SbError('JOB_INVALID', `reference profile ${shown} ${problem}; make it from a baseline with serve-batch profile ${displayPath(job.file)} --input BASELINE -o ${shown}`, at);
  }
  const reference = parseProfile(text, shown, { code: 'JOB_INVALID', hint: REMAKE(job, m.reference) });
  for (const name of monitored(m, columns)) {
    const spec = columns.specs.find((s) => s.name === name);
    const ref = reference.columns.find((c) => c.name === name);
    const has = reference.columns.map((c) => c.name).join(', ') || 'none';
    if (!ref) throw new SbError('JOB_INVALID', `reference profile ${shown} has no column '${name}' (its columns: ${has}): it was made for another job or model; ${REMAKE(job, m.reference)}`, at);
    if (spec && ref.kind !== spec.kind) throw new SbError('JOB_INVALID', `reference profile ${shown} profiles '${name}' as ${ref.kind}, this job as ${spec.kind}: it was made for another job or model; ${REMAKE(job, m.reference)}`, at);
  }
  return reference;
}

// The columns a job monitors: monitor.columns, or every feature and prediction column.
function monitored(m: MonitorConfig, columns: ProfileColumns): string[] {
  return m.columns ?? columns.specs.map((s) => s.name);
}

// The profile of a run: its inputs' profiles merged (exact, so in any order), or an empty one.
export function runProfile(columns: ProfileColumns, inputs: readonly InputProfile[]): Profile {
  return inputs.reduce<Profile>((acc, i) => mergeProfiles(acc, i.profile), new Profiler(columns.specs).finish());
}

// Write the profile file atomically; its JSON is the same for the same rows, whatever the chunks and shards.
export async function writeProfile(file: string, run: Profile, inputs: readonly InputProfile[], reference: Profile | undefined): Promise<void> {
  const sink = await openSink(file);
  // Names and values that came from the environment are hidden, as in the record (parseRunProfile reveals them).
  await sink.write(`${profileText(redactDeep(runProfileToJson(run, inputs, reference)))}\n`);
  await sink.commit();
}

// The record's summary of a profile.
function profileSummary(profile: Profile, file: string | null): ProfileSummary {
  return {
    file,
    columns: profile.columns.map((c) =>
      c.kind === 'number'
        ? { name: c.name, kind: c.kind, count: c.count, missing: c.missing, mean: meanOf(c), std: stdOf(c), min: c.min, max: c.max, infinite: c.infinite }
        : { name: c.name, kind: c.kind, count: c.count, missing: c.missing, distinct: c.values ? c.values.length : null },
    ),
  };
}

// A run's (or merge's) profile written beside its record and summarised in it (a file that cannot be written
// is a warning); with a reference and `drift`, the monitor section in the record and its alerts and warnings
// among the record's. The section and the warnings it added, for the caller to log.
export async function saveRunProfile(
  job: Pick<JobConfig, 'stateDir' | 'monitor'>,
  record: RunRecord,
  stateName: string,
  p: { columns: ProfileColumns; run: Profile; inputs: readonly InputProfile[]; reference?: Profile; drift: boolean },
  warn: (message: string) => void = (message) => record.warnings.push(message),
): Promise<{ monitor: MonitorSection; warnings: string[] } | undefined> {
  let file: string | null = profilePath(job.stateDir, stateName, record.run_id);
  try {
    await writeProfile(file, p.run, p.inputs, p.reference);
  } catch (err) {
    file = null;
    warn(`the profile could not be written: ${messageOf(err)}`);
  }
  record.profile = profileSummary(p.run, file);
  if (!job.monitor || !p.reference || !p.drift) return undefined;
  const monitor = monitorSection(job.monitor, p.columns, p.run, p.reference);
  const warnings = [...monitor.alerts, ...monitor.warnings].map((a) => `drift: ${a}`);
  record.monitor = monitor;
  record.warnings.push(...warnings);
  return { monitor, warnings };
}

// Drift of each monitored column against the reference, with its level and the alert lines.
function monitorSection(m: MonitorConfig, columns: ProfileColumns, run: Profile, reference: Profile): MonitorSection {
  const drifts = profileDrift(run, reference, monitored(m, columns));
  const alerts: string[] = [];
  const warnings: string[] = [];
  const out = drifts.map((d): ColumnDriftRecord => {
    const value = m.metric === 'psi' ? d.psi : d.js;
    let level: DriftLevel = 'ok';
    if (value !== null && value > m.failAt) {
      level = 'fail';
      alerts.push(`column '${d.column}': ${m.metric} ${round(value)} is above fail_at ${m.failAt}`);
    } else if (value !== null && value > m.warnAt) {
      level = 'warn';
      warnings.push(`column '${d.column}': ${m.metric} ${round(value)} is above warn_at ${m.warnAt}`);
    }
    const rise = d.missingRate - d.referenceMissingRate;
    if (m.missingRateIncrease !== undefined && rise > m.missingRateIncrease) {
      level = 'fail';
      alerts.push(`column '${d.column}': missing share ${round(d.missingRate)} against ${round(d.referenceMissingRate)} in the reference, a rise above missing_rate_increase ${m.missingRateIncrease}`);
    }
    return { column: d.column, value, psi: d.psi, js: d.js, missing_ratio: d.missingRate, reference_missing_ratio: d.referenceMissingRate, level, ...(d.note ? { note: d.note } : {}) };
  });
  const level: DriftLevel = out.some((c) => c.level === 'fail') ? 'fail' : out.some((c) => c.level === 'warn') ? 'warn' : 'ok';
  return { reference: m.reference, metric: m.metric, warn_at: m.warnAt, fail_at: m.failAt, missing_rate_increase: m.missingRateIncrease ?? null, level, columns: out, alerts, warnings };
}

// A drift value for a message: 4 significant digits.
function round(x: number): string {
  return String(Number(x.toPrecision(4)));
}
