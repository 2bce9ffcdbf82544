// The profile stage's refusal: a prediction column named like a feature column would make its profile
// ambiguous, so the run stops before it reads a row, in one line with exit code 2.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, model, runMain, tempDir, writeFiles } from '../support/cli.js';

describe('profile columns', () => {
  it('a prediction column named like a feature fails in one line, exit 2, nothing written', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'job.yaml': `name: iris
model: ${model('multiclass')}
input: data/today.csv
features: { columns: [a, b, c, d] }
predictions: [{ output: label, column: a }]
output: { path: out/scores.csv }
state_dir: state
`,
      'data/today.csv': 'a,b,c,d\n1,2,3,4\n',
    });
    const r = await runMain(['run', 'job.yaml', '--log-format', 'text'], { cwd: dir });
    expect(r.status, r.stderr).toBe(2);
    expect(expectOneLineError(r.stderr)).toEqual([
      "error: job iris: invalid — prediction column 'a' has the name of a feature column, so its profile would be ambiguous; rename it with predictions[].column (at predictions)",
    ]);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });
});
