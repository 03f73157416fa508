import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { noImportRing } from './test/lint/no-import-ring.mjs';

// The parts, top to bottom; each may import only the parts below it (ssm: nothing of ours).
const PARTS = ['infra', 'bot', 'runner', 'ssm'];
// A miniature of the layout with deliberate violations: ignored by `eslint .`, linted on purpose by
// test/lint/architecture.test.ts, so the same rules must reach it.
const FIXTURE_TREE = 'test/lint/fixtures/tree/';
const SOURCE_ROOTS = ['', FIXTURE_TREE];
// Folders below a part deeper than this go unchecked; the deepest today is runner/aws/ssm-executor (2).
const MAX_DEPTH = 5;

/**
 * One block per part and folder depth: from a file `depth` folders below its part, an import that
 * climbs depth + 1 levels has left the part, and what follows names where it went. Core
 * no-restricted-imports on the import text, so it needs no resolver and costs nothing.
 */
function partBoundaries() {
  const blocks = [];
  PARTS.forEach((part, i) => {
    const above = PARTS.slice(0, i);
    if (part !== 'ssm' && above.length === 0) return;
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      const pattern =
        part === 'ssm'
          ? {
              regex: `^(\\.\\./){${depth}}\\.\\.(/|$)`,
              message: 'ssm/ imports nothing of ours: it is the bottom part.',
            }
          : {
              regex: `^(\\.\\./){${depth + 1}}(${above.join('|')})(/|$)`,
              message: `${part}/ may not import ${above.map((p) => `${p}/`).join(' or ')}: imports only go down (infra → bot → runner → ssm).`,
            };
      blocks.push({
        files: SOURCE_ROOTS.map((root) => `${root}${part}/${'*/'.repeat(depth)}*`),
        rules: { 'no-restricted-imports': ['error', { patterns: [pattern] }] },
      });
    }
  });
  return blocks;
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', 'coverage/', 'test/lint/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...partBoundaries(),
  {
    // Rings, type-only imports included (what a reader must untangle is the same).
    files: ['**/*.ts'],
    plugins: { local: { rules: { 'no-import-ring': noImportRing } } },
    rules: { 'local/no-import-ring': 'error' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        module: 'writable',
        require: 'readonly',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
