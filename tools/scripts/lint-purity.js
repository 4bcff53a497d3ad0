// The purity rule of STYLE.md as ESLint rules, applied by Nx tag: a `type:core` project imports no
// I/O module and reads no clock, randomness, timer or process state of its own (time and chance are
// parameters, so services, tests and the simulator share the code). @swarm/determinism, which wraps
// the clock and randomness for everyone else, is the one exception; spec files may use anything.
// Read by eslint.config.mjs; plain CommonJS so tests and scripts can load it too.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, workspaceProjects } = require('./workspace-projects');

const PURE_TAG = 'type:core';
/** Core projects allowed to touch the clock, timers and randomness: they provide WallClock, Stopwatch, Scheduler and Random. */
const PURITY_EXEMPT = new Set(['@swarm/determinism']);

const IO_MESSAGE = 'pure core does no I/O: move it into an adapter and pass the result in';
const TIME_MESSAGE = 'pure core reads no clock: take a WallClock (deadlines) or a Stopwatch (durations) from @swarm/determinism as a parameter';
const RANDOM_MESSAGE = 'pure core draws no randomness of its own: take a Random (@swarm/determinism) as a parameter';
const TIMER_MESSAGE = 'pure core schedules nothing: take a Scheduler (@swarm/determinism), or pass deadlines as values or an AbortSignal';
const PROCESS_MESSAGE = 'pure core reads no process state: take env and arguments as parameters; libs never call process.exit';

/** Node built-ins that do I/O or expose process, clock or timer state; both `x` and `node:x`. */
const IO_BUILTINS = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'tls',
  'dgram',
  'dns',
  'dns/promises',
  'child_process',
  'cluster',
  'worker_threads',
  'readline',
  'readline/promises',
  'os',
  'process',
  'perf_hooks',
  'timers',
  'timers/promises',
  'inspector',
  'v8',
  'vm',
  'async_hooks',
  'diagnostics_channel',
];
/** Packages that do I/O (bus, storage, processes, GPU, logs, traces) and their subpaths. */
const IO_PACKAGES = ['nats', 'level', 'classic-level', 'piscina', 'gpu.js', 'pino', 'undici', 'ws', '@grpc/*', '@opentelemetry/*'];
/** node:crypto stays usable for hashing; these are its sources of randomness. */
const CRYPTO_RANDOM = [
  'randomUUID',
  'randomBytes',
  'randomInt',
  'randomFill',
  'randomFillSync',
  'getRandomValues',
  'webcrypto',
  'generateKey',
  'generateKeySync',
  'generateKeyPair',
  'generateKeyPairSync',
  'generatePrime',
  'generatePrimeSync',
];

/** Globals that read the clock, randomness, timers, process state, the network or the console. */
const RESTRICTED_GLOBALS = [
  ...['Date', 'performance'].map((name) => ({ name, message: TIME_MESSAGE })),
  { name: 'crypto', message: RANDOM_MESSAGE },
  ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask'].map((name) => ({ name, message: TIMER_MESSAGE })),
  { name: 'process', message: PROCESS_MESSAGE },
  ...['fetch', 'WebSocket', 'XMLHttpRequest'].map((name) => ({ name, message: IO_MESSAGE })),
  { name: 'console', message: `${IO_MESSAGE} (return what happened; the caller logs)` },
];

function restrictedProperties() {
  const viaGlobalObject = ['globalThis', 'global', 'self', 'window'].flatMap((object) => RESTRICTED_GLOBALS.map(({ name, message }) => ({ object, property: name, message })));
  return [{ object: 'Math', property: 'random', message: RANDOM_MESSAGE }, ...viaGlobalObject];
}

function restrictedImports() {
  const builtins = IO_BUILTINS.flatMap((name) => [name, `node:${name}`]).map((name) => ({ name, message: IO_MESSAGE }));
  const crypto = ['crypto', 'node:crypto'].map((name) => ({ name, importNames: CRYPTO_RANDOM, message: RANDOM_MESSAGE }));
  const packages = IO_PACKAGES.flatMap((name) => (name.endsWith('/*') ? [name] : [name, `${name}/*`]));
  return { paths: [...builtins, ...crypto], patterns: [{ group: packages, message: IO_MESSAGE }] };
}

const RESTRICTED_SYNTAX = [
  { selector: 'ImportExpression', message: `${IO_MESSAGE} (no dynamic import)` },
  { selector: "CallExpression[callee.type='Identifier'][callee.name='require']", message: `${IO_MESSAGE} (no require)` },
];

/** The rules, independent of where they apply (tests lint fixtures against them too). */
function purityRules() {
  return {
    'no-restricted-imports': 'off',
    '@typescript-eslint/no-restricted-imports': ['error', restrictedImports()],
    'no-restricted-globals': ['error', ...RESTRICTED_GLOBALS],
    'no-restricted-properties': ['error', ...restrictedProperties()],
    'no-restricted-syntax': ['error', ...RESTRICTED_SYNTAX],
  };
}

function nxTags(projectDir) {
  const { nx } = JSON.parse(fs.readFileSync(path.join(projectDir, 'package.json'), 'utf8'));
  return Array.isArray(nx?.tags) ? nx.tags : [];
}

/** Roots (posix, relative to the repo) of the projects the purity rules apply to, from package.json nx.tags. */
function pureProjectRoots(root = ROOT) {
  return workspaceProjects(root)
    .filter((p) => nxTags(p.dir).includes(PURE_TAG) && !PURITY_EXEMPT.has(p.name))
    .map((p) => p.root);
}

/** One flat-config block per pure project: its sources, tests excluded. */
function purityConfigs(root = ROOT) {
  return pureProjectRoots(root).map((projectRoot) => ({
    name: `swarm/purity:${projectRoot}`,
    files: [`${projectRoot}/src/**/*.ts`],
    ignores: ['**/*.spec.ts'],
    rules: purityRules(),
  }));
}

module.exports = { PURE_TAG, PURITY_EXEMPT, purityRules, pureProjectRoots, purityConfigs };
