// What /healthz and /readyz answer: pure functions of the scheduler's phase, its jobs and the time.
//
// Alive: the process answers (the HTTP server shares the scheduler's event loop) and every armed fire has
// happened within its grace: a planned fire more than OVERDUE_GRACE_MS in the past that the scheduler has not
// handled means its timers stopped working (a blocked loop, a stalled timer), and a restart is the remedy.
// Ready: every job file was loaded and checked, and the scheduler is not stopping.
import { LATE_TOLERANCE_MS } from '../beat.js';
import type { JobSnapshot } from '../daemon.js';

/** A fire this late still runs as scheduled (the beat's tolerance); later, it has been missed. */
const OVERDUE_GRACE_MS = LATE_TOLERANCE_MS;

export type Phase = 'loading' | 'running' | 'stopping';

interface Overdue {
  job: string;
  /** The planned fire, ISO. */
  due: string;
  late_ms: number;
}

export interface Health {
  ok: boolean;
  phase: Phase;
  reason: string;
  overdue: Overdue[];
}

// Fires planned more than `graceMs` before `now` that have not happened.
function overdueFires(jobs: JobSnapshot[], now: number, graceMs = OVERDUE_GRACE_MS): Overdue[] {
  const out: Overdue[] = [];
  for (const j of jobs) {
    if (!j.next) continue;
    const late = now - j.next.getTime();
    if (late > graceMs) out.push({ job: j.job.name, due: j.next.toISOString(), late_ms: late });
  }
  return out;
}

// The liveness answer.
export function health(phase: Phase, jobs: JobSnapshot[], now: number, graceMs = OVERDUE_GRACE_MS): Health {
  const overdue = phase === 'running' ? overdueFires(jobs, now, graceMs) : [];
  if (overdue.length > 0) {
    const o = overdue[0];
    const more = overdue.length > 1 ? ` (and ${overdue.length - 1} more)` : '';
    const reason = `job ${o.job}: the fire planned for ${o.due} has not happened ${Math.round(o.late_ms / 1000)} s later (grace ${graceMs / 1000} s)${more}: the scheduler's timers are not firing`;
    return { ok: false, phase, reason, overdue };
  }
  const reason = phase === 'loading' ? 'alive, loading the job files' : phase === 'stopping' ? 'alive, stopping' : 'alive, every fire on time';
  return { ok: true, phase, reason, overdue };
}

// The readiness answer.
export function readiness(phase: Phase, jobs: number): { ready: boolean; phase: Phase; reason: string } {
  if (phase === 'loading') return { ready: false, phase, reason: 'loading and checking the job files' };
  if (phase === 'stopping') return { ready: false, phase, reason: 'stopping: no new runs start' };
  return { ready: true, phase, reason: `${jobs} job${jobs === 1 ? '' : 's'} loaded` };
}
