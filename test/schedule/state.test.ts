import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { fileStateStore, parseState, statePath } from '../../src/schedule/state.js';

describe('schedule state files', () => {
  it('round-trips through state_dir/schedule/<job>.json, atomically', async () => {
    const stateDir = tempDir('sb-state-');
    const job = { name: 'nightly', stateDir };
    expect(await fileStateStore.read(job)).toBeUndefined();
    const s = { handledUntil: new Date('2026-11-24T17:00:05Z'), lastFire: new Date('2026-11-24T17:00:00Z') };
    await fileStateStore.write(job, s);
    expect(await fileStateStore.read(job)).toEqual(s);
    expect(readdirSync(path.join(stateDir, 'schedule'))).toEqual(['nightly.json']);
  });

  it('an unreadable state is an error the scheduler reports (and then ignores)', async () => {
    const stateDir = tempDir('sb-state-');
    mkdirSync(path.join(stateDir, 'schedule'));
    writeFileSync(statePath(stateDir, 'j'), '{"handled_until": "yesterday"}');
    await expect(fileStateStore.read({ name: 'j', stateDir })).rejects.toThrow(/the schedule state .*j\.json is not valid; it is ignored and rewritten/);
  });

  it('parseState accepts only well-formed instants', () => {
    expect(parseState('{"handled_until":"2026-11-24T00:00:00.000Z","last_fire":null}')).toEqual({ handledUntil: new Date('2026-11-24T00:00:00Z'), lastFire: undefined });
    expect(parseState('not json')).toBeUndefined();
    expect(parseState('{}')).toBeUndefined();
  });
});
