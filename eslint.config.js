// Lint: typescript-eslint's recommended rules, plus the project's two structural rules — only src/cli prints,
// and imports point down the layers below (a folder imports only folders listed before it).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** src/ folders from the bottom up: each may import those before it (and util/, errors.ts, version.ts). */
const LAYERS = ['table', 'cron', 'job', 'storage', 'io', 'model', 'db', 'monitor', 'pipeline', 'run', 'notify', 'schedule', 'cli'];

// For each folder: an import of any folder above it is refused, whatever the depth of the importing file.
const layerRules = LAYERS.map((folder, i) => {
  const above = LAYERS.slice(i + 1);
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: `^(\\.\\./)+(${above.join('|')})/`, message: `src/${folder} is below ${above.join(', ')}: imports point down (see the README's Development section)` }] }],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'fixtures/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  { files: ['src/**/*.ts'], rules: { 'no-console': 'error' } },
  { files: ['src/util/**/*.ts', 'src/errors.ts', 'src/version.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: `^(\\.\\./)+(${LAYERS.join('|')})/`, message: 'src/util is the bottom layer: it imports no other folder' }] }] } },
  ...layerRules,
);
