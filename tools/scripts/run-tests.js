#!/usr/bin/env node
// `npm test`: the whole check in one command, for people and CI alike.
//   1. build (swc to each project's dist/; what services and `swarm` run)
//   2. generated contracts match proto/     3. type check (tsc, strict)
//   4. dependency rules on the Nx graph      5. lint (ESLint, type-aware; purity of type:core)
//   6. format (Prettier --check)             7. jest (unit + integration, real nats-server/LevelDB)
// Ends with the plain line `N passed, N failed` (jest tests plus the six checks) that CI reads.
// Extra arguments go to jest, e.g. `npm test -- libs/bus`. SWARM_JEST_REPORTS=<dir> keeps jest's JSON
// reports there (per-file and per-test durations).
// `--unit` (`npm run test:unit`): the fast loop — build, then only the unit specs: no checks, no
// `*.int.spec.ts` (real processes, and scenario suites that build and audit long chains: the
// sighting attacks) and no `*.trials.spec.ts` (10,000-trial statistical suites and the
// kernels' conformance suite: minutes of CPU).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);
// SWARM_GPU_BACKEND: every executor the tests start (about 70) would otherwise probe WebGPU first, when
// the optional `webgpu` package is installed: Dawn loads and looks for an adapter, ~2 s of CPU where
// there is no GPU. The tests of that choice set `auto` themselves (kernel-pool.int.spec.ts).
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', SWARM_GPU_BACKEND: process.env.SWARM_GPU_BACKEND || 'webasm' };
let passed = 0;
let failed = 0;

function step(name, cmd, args) {
  const started = Date.now();
  process.stderr.write(`\n▶ ${name}\n`);
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
  const ok = r.status === 0;
  process.stderr.write(`${ok ? '✔' : '✘'} ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  if (ok) passed += 1;
  else failed += 1;
}

const unitOnly = process.argv.includes('--unit');
const jestArgs = process.argv.slice(2).filter((a) => a !== '--unit');
if (unitOnly) {
  jestArgs.push('--testPathIgnorePatterns', '\\.(int|trials)\\.spec\\.ts$');
  // The unit specs allocate much short-lived garbage (property runs, protobuf, signatures): a young
  // generation of 64 MiB semi-spaces scavenges less often, ~8 % less CPU here. Only here: the full
  // suite's tests start ~70 services, which would inherit it.
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --max-semi-space-size=64`.trim();
}

/**
 * What the checks remember between runs (an ignored folder, so a fresh clone, CI, starts cold): tsc's
 * incremental state, which re-checks what an edit can affect; ESLint's and Prettier's results per
 * file, by content (ESLint's also by what each file's types depend on: lint-fingerprints.js).
 */
const CACHE = path.join(root, 'node_modules/.cache/swarm-checks');

/**
 * The checks after the build run side by side (the machine's cores are otherwise idle while tsc or
 * ESLint wait on one thread); each one's output is printed whole, in order, when it ends.
 */
async function runChecks() {
  const checks = [
    ['contracts match proto/', process.execPath, [path.join(__dirname, 'gen-proto.js'), '--check']],
    ['type check', bin('tsc'), ['-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', path.join(CACHE, 'tsc/tsconfig.tsbuildinfo')]],
    ['dependency rules', process.execPath, [path.join(__dirname, 'check-deps.js')]],
    ['lint', bin('eslint'), ['--max-warnings=0', '--cache', '--cache-strategy', 'content', '--cache-location', path.join(CACHE, 'eslint/'), '.']],
    ['format', bin('prettier'), ['--check', '--log-level', 'warn', '--cache', '--cache-strategy', 'content', '--cache-location', path.join(CACHE, 'prettier/cache.json'), '.']],
  ];
  const started = Date.now();
  const runs = checks.map(
    ([name, cmd, args]) =>
      new Promise((resolve) => {
        const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('error', (err) => resolve({ name, ok: false, out: `${out}${err.message}\n`, ms: Date.now() - started }));
        child.on('close', (code) => resolve({ name, ok: code === 0, out, ms: Date.now() - started }));
      }),
  );
  for (const run of runs) {
    const { name, ok, out, ms } = await run;
    process.stderr.write(`\n▶ ${name}\n${out}${ok ? '✔' : '✘'} ${name} (${(ms / 1000).toFixed(1)} s)\n`);
    if (ok) passed += 1;
    else failed += 1;
  }
}

async function main() {
  step('build', process.execPath, [path.join(__dirname, 'build.js')]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-jest-'));
  const split = !unitOnly && jestArgs.length === 0;
  // The trial suites start now, at nice 19 (runJest): they fill the cores the checks leave idle (at
  // the end ESLint runs alone, on one thread) and then those the rest of jest leaves idle.
  const trials = split
    ? startSideJest(
        dir,
        'trials',
        'the trial suites, at nice 19',
        ['--maxWorkers', '2', '--testPathPatterns', TRIALS_PATTERN, '--testSequencer', path.join(__dirname, 'trials-sequencer.js')],
        LOWEST_PRIORITY,
      )
    : undefined;
  if (!unitOnly) await runChecks();
  runJest(dir, split, trials);
}

/** The 10,000-trial verification suites and the kernels' conformance suite: minutes of pure CPU, no waiting on other processes. */
const TRIALS_PATTERN = '\\.trials\\.spec\\.ts$';
/** Suites that run several whole nodes (15-50 processes) and kill or cut some of them. */
const SWARM_PATTERN = '/(swarm-netns|swarm-up-nodes|swarm-five-nodes|fault-loop|swarm-receipts|swarm-voids|swarm-nat)\\.int\\.spec\\.ts$';
/**
 * The flood of 300 large tasks at one in-process node, run alone once the rest is done (the trials
 * aside, at nice 19): it measures how a node answers a flood, and its whole node shares one event
 * loop with the client sending 150 MiB. Beside the other suites on 2 cores it was starved for
 * seconds at a time (load average 8): its registry missed 2 s, its ledger calls 5 s. Alone it takes
 * about 3 s.
 */
const ALONE_PATTERN = '/overload\\.int\\.spec\\.ts$';

/**
 * The whole suite runs as three jest processes side by side, and a fourth after them:
 * - the multi-node suites one at a time (two of them at once, or four busy suites of any kind,
 *   starved each other's nodes on 2 cores past the timeouts they assume);
 * - everything else but the trials on two workers (integration suites spend much of their time
 *   waiting on the processes they start);
 * - the trial suites (minutes of pure CPU, nothing timed) on two workers at the lowest priority
 *   (nice 19), so they take only the CPU the others leave idle and never slow their processes down;
 *   started before the checks (main);
 * - then the flood suite alone (ALONE_PATTERN), once the first two are done.
 * The side processes' output is printed after the first one's, whole, each with its wall time. With
 * jest arguments (a path, a pattern) or --unit: one process, as configured.
 */
function runJest(dir, split, trials) {
  process.stderr.write('\n▶ jest\n');
  const started = Date.now();
  const side = split ? [startSideJest(dir, 'swarm', 'the multi-node suites, one at a time', ['--maxWorkers', '1', '--testPathPatterns', SWARM_PATTERN]), trials] : [];
  const mainArgs = split ? ['--maxWorkers', '2', '--testPathIgnorePatterns', TRIALS_PATTERN, SWARM_PATTERN, ALONE_PATTERN] : jestArgs;
  // --forceExit: a test that leaks a child process (a failed assertion before its cleanup) must not
  // keep CI waiting after the last test; jest still prints which handles were left open.
  const jest = spawn(bin('jest'), ['--json', `--outputFile=${path.join(dir, 'results.json')}`, '--forceExit', ...mainArgs], { cwd: root, env, stdio: 'inherit' });
  jest.on('close', async (status) => {
    const statuses = [status];
    if (split) process.stderr.write(`jest: the rest took ${seconds(Date.now() - started)}\n`);
    count(path.join(dir, 'results.json'));
    const [swarm, trialSuites] = side;
    const after = [];
    if (swarm) {
      after.push(swarm);
      await swarm.done;
      after.push(startSideJest(dir, 'alone', 'the flood, alone after the rest', ['--maxWorkers', '1', '--testPathPatterns', ALONE_PATTERN]));
    }
    if (trialSuites) after.push(trialSuites);
    for (const run of after) {
      const { status: st, ms } = await run.done;
      statuses.push(st);
      process.stderr.write(`\n▶ jest: ${run.title}\n${fs.readFileSync(run.log, 'utf8')}jest: ${run.title} took ${seconds(ms)}\n`);
      count(run.report);
    }
    if (process.env.SWARM_JEST_REPORTS) fs.cpSync(dir, process.env.SWARM_JEST_REPORTS, { recursive: true });
    fs.rmSync(dir, { recursive: true, force: true });
    if (statuses.some((st) => st !== 0) && failed === 0) failed += 1; // jest failed outside any test (config, open handles)
    process.stderr.write(`\njest took ${seconds(Date.now() - started)}\n`);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  });
}

/** nice(1)'s lowest: a process at 19 (and the workers it forks) runs almost only on otherwise idle CPU. */
const LOWEST_PRIORITY = 19;

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * A second jest process over part of the suite, its output kept in a file until the end; `nice`
 * lowers its priority (under `nice`, so its workers inherit it from their first instruction).
 */
function startSideJest(dir, name, title, args, nice = 0) {
  const report = path.join(dir, `${name}.json`);
  const log = path.join(dir, `${name}.log`);
  const out = fs.openSync(log, 'w');
  const started = Date.now();
  const cmd = [bin('jest'), '--json', `--outputFile=${report}`, '--forceExit', ...args];
  const niced = nice !== 0 && process.platform !== 'win32';
  const child = spawn(niced ? 'nice' : cmd[0], niced ? ['-n', String(nice), ...cmd] : cmd.slice(1), { cwd: root, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const done = new Promise((resolve) => {
    child.on('error', () => resolve({ status: 1, ms: Date.now() - started }));
    child.on('close', (status) => resolve({ status, ms: Date.now() - started }));
  });
  return { title, report, log, done };
}

/** Adds one jest report's counts; a missing report is one failure. */
function count(report) {
  if (!fs.existsSync(report)) {
    failed += 1;
    return;
  }
  const results = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests + results.numRuntimeErrorTestSuites;
  for (const suite of results.testResults) {
    if (suite.status === 'failed' && suite.assertionResults.length === 0) process.stderr.write(`suite failed to run: ${path.relative(root, suite.name)}\n`);
  }
}

void main();
