/**
 * `npm run bench -- --shapley`: the attribution library (@swarm/attribution) on the protocol's value
 * functions. Per n: time per settlement (Shapley values, then integer payouts of a 1-credit pool)
 * and the payouts' L1 error against the exact split, as a % of the pool, for exact enumeration and
 * for Monte-Carlo with antithetic permutations at several budgets. The exact split comes from
 * enumeration where it is computable (n ≤ 20) and from closed forms beyond: the shard game's
 * (shardShapley) and the replica game's symmetry (k agreeing replicas get taskValue/k each).
 * Monte-Carlo walks each order with the game's incremental walk; one row re-evaluates v instead.
 * Goals (issue 14): exact for n ≤ 12 in < 5 ms; n = 50 with ≤ 1,024 permutations: L1 ≤ 5% in < 50 ms.
 */
import { performance } from 'node:perf_hooks';
import type { Game, ShardGameInput } from '@swarm/attribution';
import { approxShapley, exactShapley, pipelineGame, replicaGame, shapleyPayouts, shardGame, shardShapley } from '@swarm/attribution';
import type { Random } from '@swarm/determinism';
import { seededRandom } from '@swarm/determinism';
import Table from 'cli-table3';

/** A task's pool in micro-credits: 1 credit. */
const POOL = 1_000_000n;
const EXACT_GOAL = { maxN: 12, ms: 5 };
const APPROX_GOAL = { n: 50, permutations: 1024, l1Pct: 5, ms: 50 };

interface BenchGame {
  n: number;
  name: string;
  game: Game;
  /** The exact Shapley values. */
  exact: number[];
}

export interface ShapleyRow {
  n: number;
  game: string;
  method: string;
  msPerSettlement: number;
  l1PctOfPool: number;
  maxStdErrPctOfPool: number | undefined;
  goal: string;
  met: boolean | undefined;
}

/** Shards with 1–3 contributors each; about 1 in 8 completions wrong and 1 in 8 late. */
function randomShards(n: number, shards: number, random: Random): ShardGameInput {
  const deadlineMs = 1_000;
  return {
    players: n,
    deadlineMs,
    shards: Array.from({ length: shards }, () => {
      const contributors = new Set<number>();
      const want = 1 + Math.floor(random() * 3);
      while (contributors.size < Math.min(want, n)) contributors.add(Math.floor(random() * n));
      return {
        value: 1 + Math.floor(random() * 9),
        completions: [...contributors].map((player) => ({
          player,
          correct: random() >= 0.125,
          finishedAtMs: random() < 0.125 ? deadlineMs + 1 : Math.floor(random() * deadlineMs),
        })),
      };
    }),
  };
}

function shardBench(n: number, random: Random): BenchGame {
  const input = randomShards(n, 2 * n, random);
  return { n, name: `shards (${2 * n}, deadline)`, game: shardGame(input), exact: shardShapley(input) };
}

/** k agreeing replicas among n, the rest wrong or idle: symmetry gives taskValue/k each. */
function replicaBench(n: number, k: number): BenchGame {
  const taskValue = 100;
  const agreement = Array.from({ length: n }, (_, i) => (i % Math.floor(n / k) === 0 && i / Math.floor(n / k) < k ? 1 : null));
  const game = replicaGame({ agreement, taskValue, loneValue: 40 });
  return { n, name: `replicas (${k} agree)`, game, exact: agreement.map((c) => (c === null ? 0 : taskValue / k)) };
}

/** n − 1 stages run by one player each, the last player a substitute for stage 1; exact by enumeration. */
function pipelineBench(n: number, random: Random): BenchGame {
  const stages = Array.from({ length: Math.max(2, n - 1) }, (_, k) => ({ value: 1 + Math.floor(random() * 5), coveredBy: [k % (n - 1), ...(k === 1 ? [n - 1] : [])] }));
  const game = pipelineGame({ players: n, stages });
  return { n, name: `pipeline (${stages.length} stages)`, game, exact: exactShapley(n, game.valueOfMask) };
}

function l1Pct(payouts: bigint[], exact: bigint[]): number {
  let error = 0n;
  payouts.forEach((p, i) => (error += p > exact[i] ? p - exact[i] : exact[i] - p));
  return (100 * Number(error)) / Number(POOL);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measureExact(g: BenchGame, reps: number): ShapleyRow {
  const target = shapleyPayouts(g.exact, POOL);
  const times: number[] = [];
  let error = 0;
  exactShapley(g.n, g.game.valueOfMask); // warm-up: the first call pays for the JIT
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const payouts = shapleyPayouts(exactShapley(g.n, g.game.valueOfMask), POOL);
    times.push(performance.now() - t0);
    error = Math.max(error, l1Pct(payouts, target));
  }
  const ms = median(times);
  const inGoal = g.n <= EXACT_GOAL.maxN;
  return {
    n: g.n,
    game: g.name,
    method: 'exact (2^n subsets)',
    msPerSettlement: ms,
    l1PctOfPool: error,
    maxStdErrPctOfPool: undefined,
    goal: inGoal ? `< ${EXACT_GOAL.ms} ms` : '',
    met: inGoal ? ms < EXACT_GOAL.ms : undefined,
  };
}

/** `walk`: the game's incremental walk; `members`: v re-evaluated on a membership vector per step. */
function measureApprox(g: BenchGame, permutations: number, reps: number, form: 'walk' | 'members' = 'walk'): ShapleyRow {
  const v = () => (form === 'walk' ? g.game.walk() : g.game.valueOfMembers);
  const target = shapleyPayouts(g.exact, POOL);
  const total = g.exact.reduce((a, b) => a + b, 0);
  const times: number[] = [];
  let error = 0;
  let stdErr = 0;
  approxShapley(g.n, v(), { random: seededRandom(0), permutations }); // warm-up
  for (let r = 0; r < reps; r++) {
    const random = seededRandom(1 + r);
    const t0 = performance.now();
    const est = approxShapley(g.n, v(), { random, permutations });
    const payouts = shapleyPayouts(est.values, POOL);
    times.push(performance.now() - t0);
    error += l1Pct(payouts, target) / reps;
    stdErr = Math.max(stdErr, (100 * Math.max(...est.stdErrs)) / total);
  }
  const ms = median(times);
  const inGoal = g.n === APPROX_GOAL.n && permutations === APPROX_GOAL.permutations;
  return {
    n: g.n,
    game: g.name,
    method: `Monte-Carlo, ${permutations} perms${form === 'walk' ? '' : ', v re-evaluated'}`,
    msPerSettlement: ms,
    l1PctOfPool: error,
    maxStdErrPctOfPool: stdErr,
    goal: inGoal ? `L1 ≤ ${APPROX_GOAL.l1Pct}%, < ${APPROX_GOAL.ms} ms` : '',
    met: inGoal ? error <= APPROX_GOAL.l1Pct && ms < APPROX_GOAL.ms : undefined,
  };
}

export function benchShapley(quick: boolean): ShapleyRow[] {
  const random = seededRandom(2026);
  const reps = quick ? 5 : 15;
  const budgets = quick ? [256, 1024] : [64, 256, 1024, 4096];
  const rows: ShapleyRow[] = [];
  const run = (g: BenchGame, exact: boolean, perms: number[]) => {
    if (exact) rows.push(measureExact(g, g.n > 16 ? Math.min(reps, 3) : reps));
    for (const p of perms) rows.push(measureApprox(g, p, g.n >= 200 ? Math.min(reps, 5) : reps));
  };
  run(pipelineBench(5, random), true, budgets.slice(0, 2));
  run(shardBench(12, random), true, []);
  run(shardBench(20, random), true, budgets);
  const shards50 = shardBench(50, random);
  run(shards50, false, budgets);
  rows.push(measureApprox(shards50, APPROX_GOAL.permutations, reps, 'members'));
  run(replicaBench(50, 5), false, budgets);
  run(shardBench(200, random), false, quick ? [1024] : [256, 1024, 4096]);
  run(replicaBench(200, 5), false, quick ? [1024] : [256, 1024, 4096]);
  return rows;
}

/** Plain tables when piped (CI logs, files); colours only on a terminal. */
export function printShapleyBench(quick: boolean): void {
  process.stderr.write('bench: Shapley attribution (exact and Monte-Carlo) on the protocol value functions…\n');
  const rows = benchShapley(quick);
  const t = new Table({
    head: ['n', 'game', 'method', 'ms / settlement (median)', 'payout L1 error, % of pool (mean)', 'max stderr, % of pool', 'goal', 'met'],
    ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
  });
  for (const r of rows) {
    t.push([
      String(r.n),
      r.game,
      r.method,
      r.msPerSettlement.toFixed(3),
      r.l1PctOfPool.toFixed(2),
      r.maxStdErrPctOfPool === undefined ? '-' : r.maxStdErrPctOfPool.toFixed(2),
      r.goal,
      r.met === undefined ? '' : r.met ? 'yes' : 'NO',
    ]);
  }
  process.stdout.write(`\nShapley settlement: values + integer payouts of a ${POOL} µcredit pool (exact split: enumeration for n ≤ 20, closed forms beyond)\n${t.toString()}\n`);
}
