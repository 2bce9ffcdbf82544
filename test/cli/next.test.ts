import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { parseInstant, planNext } from '../../src/cli/next.js';

describe('parseInstant', () => {
  it('accepts instants with Z or an offset', () => {
    expect(parseInstant('2025-03-07T12:00Z').toISOString()).toBe('2025-03-07T12:00:00.000Z');
    expect(parseInstant('2025-03-07T21:00:00+09:00').toISOString()).toBe('2025-03-07T12:00:00.000Z');
    expect(parseInstant('2025-03-07T12:00:00.250Z').toISOString()).toBe('2025-03-07T12:00:00.250Z');
  });

  it('refuses local times, bare dates and nonsense', () => {
    for (const bad of ['2025-03-07', '2025-03-07T12:00', 'tomorrow', '2025-13-07T12:00Z']) {
      expect(() => parseInstant(bad)).toThrow(/--from must be an instant with a UTC offset/);
    }
  });
});

describe('planNext', () => {
  it('plans with the job time zone; the schedule shorthand defaults to UTC', () => {
    const dir = tempDir('sb-next-unit-');
    const file = path.join(dir, 'j.yaml');
    writeFileSync(file, 'model: m.onnx\ninput: a.csv\nfeatures: {columns: [a]}\noutput: o.csv\nschedule: "0 0 1 * 1"\n');
    const r = planNext(file, 3, new Date('2026-11-24T00:00:00Z'));
    expect(r).toMatchObject({ job: 'j', timezone: 'UTC', cron: '0 0 1 * 1' });
    expect(r.fires.map((f) => f.local)).toEqual(['2026-11-30T00:00:00+00:00', '2026-12-01T00:00:00+00:00', '2026-12-07T00:00:00+00:00']);
  });
});
