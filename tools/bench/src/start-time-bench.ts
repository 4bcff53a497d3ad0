/**
 * Start times of the real `swarm` command (bin/swarm.js, compiled output, as a user runs it):
 * `swarm --version`, `swarm up` until the node is running (every service answered health: the moment
 * `--json` prints its summary), five nodes started at once in five homes, and `swarm up --nodes 5`
 * until its swarm runs (node 1 first, then four joining through it). Goals (issues 11 and 13, an
 * idle 2-core machine): 0.2 s, 3 s, 15 s, 15 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnProcess } from '@swarm/runtime';

const SWARM = resolve(__dirname, '../../../bin/swarm.js');
export const START_GOALS_MS = { version: 200, up: 3_000, fiveNodes: 15_000, swarmOfFive: 15_000 } as const;
/** `swarm up --nodes` for the swarm row. */
export const SWARM_NODES = 5;
const UP_TIMEOUT_MS = 120_000;
/** Enough of swarm up's progress lines to say why a start failed. */
const STDERR_TAIL_CHARS = 64_000;

export interface StartTimes {
  versionMs: number[];
  upMs: number[];
  /** Until the last of five parallel nodes is running; one entry per round. */
  fiveNodesMs: number[];
  /** `swarm up --nodes 5` until it prints its nodes (all five running, four seeded by node 1). */
  swarmOfFiveMs: number[];
}

function versionOnce(): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [SWARM, '--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`swarm --version exited ${r.status}: ${r.stderr}`);
  return performance.now() - t0;
}

/** Resolves with the time until the nodes are running; they then stop themselves (`--exit`). */
async function upOnce(extraArgs: readonly string[] = []): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'swarm-bench-home-'));
  const t0 = performance.now();
  let readyMs: number | undefined;
  const child = spawnProcess({
    command: process.execPath,
    args: [SWARM, 'up', ...extraArgs, '--exit', '--json', '--data-dir', home],
    stdout: 'ignore',
    captureChars: STDERR_TAIL_CHARS,
    onOutput: (stream) => {
      if (stream === 'stdout') readyMs ??= performance.now() - t0;
    },
  });
  // Ctrl-C, not SIGKILL: the node then stops its services and its bus.
  const timer = setTimeout(() => void child.kill('SIGINT'), UP_TIMEOUT_MS);
  const exit = await child.exited;
  clearTimeout(timer);
  rmSync(home, { recursive: true, force: true });
  if (exit.code === 0 && readyMs !== undefined) return readyMs;
  throw new Error(`swarm up ${extraArgs.join(' ')} exited ${exit.code} before its nodes ran:\n${child.stderr()}`);
}

export async function benchStartTimes(rounds: number): Promise<StartTimes> {
  versionOnce(); // builds if stale and warms the file cache, so no round pays for either
  const versionMs = Array.from({ length: rounds * 3 }, versionOnce);
  const upMs: number[] = [];
  for (let i = 0; i < rounds; i++) upMs.push(await upOnce());
  const fiveNodesMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const each = await Promise.all(Array.from({ length: 5 }, upOnce));
    fiveNodesMs.push(Math.max(...each));
  }
  const swarmOfFiveMs: number[] = [];
  for (let i = 0; i < rounds; i++) swarmOfFiveMs.push(await upOnce(['--nodes', String(SWARM_NODES)]));
  return { versionMs, upMs, fiveNodesMs, swarmOfFiveMs };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
