// ESLint for the whole repo: `npm run lint`, `nx run <project>:lint`, and a step of `npm test`.
// TypeScript gets typescript-eslint's type-aware rules (types from tsconfig.json via the project
// service); the pure core libraries also get the purity rules, chosen by Nx tag (lint-purity.js).
// `npm test` lints with --cache; lint-fingerprints.js keeps cached type-aware results honest.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { purityConfigs } = require('./tools/scripts/lint-purity.js');
const { lintFingerprintConfigs } = require('./tools/scripts/lint-fingerprints.js');

export default tseslint.config(
  {
    name: 'swarm/ignores',
    // Generated contracts are diffed against proto/ instead; dist/ is swc output.
    ignores: ['**/node_modules/**', '**/dist/**', '**/.dist-*/**', '.nx/**', 'coverage/**', 'libs/contracts/src/gen/**'],
  },
  {
    name: 'swarm/unused-disable-directives',
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    name: 'swarm/javascript',
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `catch {}` around best-effort cleanup is deliberate in the scripts.
      'no-empty': ['error', { allowEmptyCatch: true }],
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // ES modules among the JavaScript files (this config); the rest are CommonJS scripts.
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    name: 'swarm/typescript',
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // tools/compose/*.ts (run by bin/run-ts.js) lie outside tsconfig.json: linted with its options.
        projectService: { allowDefaultProject: ['tools/compose/*.ts'], defaultProject: 'tsconfig.base.json' },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports' }],
      // A switch over a union or enum names every member, even with a default: a new member fails here.
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Passing on a rejection reason we did not create (typed unknown) is not a new non-Error reject.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Off: async methods that implement a Promise-returning interface without awaiting (in-memory
      // stores, fakes) are deliberate; they reject instead of throwing synchronously.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    name: 'swarm/typescript-tests',
    files: ['**/*.spec.ts'],
    rules: {
      // Off in tests only: jest's asymmetric matchers (expect.any, expect.objectContaining) are typed
      // `any`. Calling, indexing or returning an `any` is still an error.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  ...purityConfigs(),
  ...lintFingerprintConfigs(),
);
