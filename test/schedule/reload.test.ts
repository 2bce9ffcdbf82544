import { describe, expect, it } from 'vitest';
import type { JobConfig } from '../../src/job/config.js';
import { parseJob } from '../../src/job/load.js';
import { diffJobs, fingerprint } from '../../src/schedule/reload.js';

const m = (o: Record<string, string>) => new Map(Object.entries(o));

describe('diffJobs', () => {
  it('sorts jobs into added, changed, removed and unchanged by name', () => {
    expect(diffJobs(m({ a: '1', b: '2', c: '3' }), m({ b: '2', c: '4', d: '5' }))).toEqual({ added: ['d'], changed: ['c'], removed: ['a'], unchanged: ['b'] });
  });

  it('an empty reload removes everything; a first load adds everything', () => {
    expect(diffJobs(m({ b: '1', a: '1' }), m({}))).toEqual({ added: [], changed: [], removed: ['a', 'b'], unchanged: [] });
    expect(diffJobs(m({}), m({ b: '1', a: '1' }))).toEqual({ added: ['a', 'b'], changed: [], removed: [], unchanged: [] });
  });
});

describe('fingerprint', () => {
  const job = (extra: string): JobConfig => parseJob(`model: m.onnx\ninput: a.csv\nfeatures: {columns: [a], missing: {a: 0}}\noutput: o.csv\n${extra}`, '/jobs/j.yaml');

  it('is equal for equal configurations and differs when anything changes (Maps included)', () => {
    expect(fingerprint(job('schedule: "0 2 * * *"'))).toBe(fingerprint(job('schedule: { cron: "0 2 * * *" }')));
    expect(fingerprint(job('schedule: "0 2 * * *"'))).not.toBe(fingerprint(job('schedule: "0 3 * * *"')));
    const a = parseJob('model: m.onnx\ninput: a.csv\nfeatures: {columns: [a], missing: {a: 0}}\noutput: o.csv\n', '/jobs/j.yaml');
    const b = parseJob('model: m.onnx\ninput: a.csv\nfeatures: {columns: [a], missing: {a: 1}}\noutput: o.csv\n', '/jobs/j.yaml');
    expect(fingerprint(a)).not.toBe(fingerprint(b));
  });
});
