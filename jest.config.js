// One jest run over every project: @swc/jest transpiles only (≈4× faster than ts-jest);
// `npm run typecheck` does the type checking. Tests run the TypeScript sources: `@swarm/*` maps to
// each package's src/ entry, and compiled output (dist/) is invisible to jest. Tests that spawn
// services run the compiled apps, so the global setup brings dist/ up to date first.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { workspaceProjects } = require('./tools/scripts/workspace-projects');

const swc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swc.$schema;
const moduleNameMapper = {};
for (const p of workspaceProjects()) {
  if (p.main) moduleNameMapper[`^${p.name.replace(/[/.]/g, '\\$&')}$`] = `<rootDir>/${p.root}/${p.main.split(path.sep).join('/')}`;
}

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  runtime: '<rootDir>/tools/scripts/jest-code-cache-runtime.js',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/tools'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper,
  modulePathIgnorePatterns: ['<rootDir>/[^/]+/[^/]+/(dist|\\.dist-[^/]+)/'],
  globalSetup: '<rootDir>/tools/scripts/jest-global-setup.js',
  testTimeout: 30_000,
  // One more worker than cores on a small box: integration suites spend most of their time waiting on
  // child processes, which a third worker overlaps with the CPU-bound *.trials suites.
  maxWorkers: Math.max(3, Math.floor(os.availableParallelism() / 2)),
};
