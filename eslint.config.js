// Lint: typescript-eslint's recommended rules, plus the project's two structural rules — only src/cli prints,
// and imports point down the layers below (a folder imports only folders listed before it).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** src/ folders from the bottom up: each may import those before it (and util/, errors.ts, version.ts). */
const LAYERS = ['table', 'cron', 'job', 'storage', 'db', 'io', 'model', 'monitor', 'pipeline', 'run', 'notify', 'schedule', 'cli'];

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
  // Control characters in patterns are deliberate: they are what the escaping of logs and JSON looks for.
  { rules: { 'no-control-regex': 'off' } },
  { files: ['src/**/*.ts'], rules: { 'no-console': 'error' } },
  // Tests write literals that lose precision on purpose (number parsing against Number()), and read JSON
  // answers loosely.
  { files: ['test/**/*.ts'], rules: { 'no-loss-of-precision': 'off', '@typescript-eslint/no-explicit-any': 'off' } },
  // Plain JavaScript runs on Node: its globals.
  { files: ['**/*.{js,mjs,cjs}'], languageOptions: { globals: { process: 'readonly', console: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', URL: 'readonly' } } },
  // CommonJS files (a server started in its own process for tests) load with require.
  { files: ['**/*.cjs'], languageOptions: { globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['src/util/**/*.ts', 'src/errors.ts', 'src/version.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: `^(\\.\\./)+(${LAYERS.join('|')})/`, message: 'src/util is the bottom layer: it imports no other folder' }] }] } },
  ...layerRules,
);
