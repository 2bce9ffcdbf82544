// The bad-input corpus through the real CLI (cases in test/support/corpus.ts).
import { describe, expect, it } from 'vitest';
import { runCase } from '../support/cases.js';
import { corpusCases } from '../support/corpus.js';

describe('bad-input corpus', () => {
  it('has at least 30 cases', () => expect(corpusCases.length).toBeGreaterThanOrEqual(30));
  for (const c of corpusCases) it(`${c.name} → exit ${c.exit}`, () => runCase(c));
});
