/**
 * A sharded matmul's admission and pay (docs/sharding.md). Admission: `shards` 0 or 1 is the whole
 * product on one provider; 2..TASK_MAX_SHARDS splits matmul's `a` into row blocks (@swarm/skills
 * rowBlocks, which also refuses more shards than rows); any other skill, or shards together with
 * redundancy >= 2, is INVALID_ARGUMENT before anything is reserved.
 *
 * Pay: the pool is the price of the whole product, paid only for a complete result (every block
 * verified by the deadline). It is split by Shapley value in the shard game of @swarm/attribution:
 * the players are the provider nodes that returned a block, each block is worth its share of the
 * work (rows·k·m over n·k·m), and a block's value goes to whoever completed it correctly in time.
 * A node that only returned wrong or late blocks is a null player and gets 0; a node that completed
 * several blocks is paid for all of them in one payout (an escrow pays each payee once).
 */
import { shapleyPayouts, shardShapley } from '@swarm/attribution';
import type { Shard } from '@swarm/attribution';
import { ErrorCode, SwarmError, TASK_MAX_SHARDS } from '@swarm/contracts';
import type { RowBlock } from '@swarm/skills';
import type { TaskRequest } from './task-types';

/** The one skill that can be sharded: a row block of a·b is itself a matmul. */
export const SHARDABLE_SKILL = 'matmul';

/** How many row blocks `req` is split into: 1 for shards 0 or 1; INVALID_ARGUMENT when it cannot be sharded. */
export function shardsOf(req: Pick<TaskRequest, 'skill' | 'shards' | 'redundancy'>): number {
  const s = req.shards ?? 0;
  if (s === 0 || s === 1) return 1;
  if (!Number.isInteger(s) || s < 2 || s > TASK_MAX_SHARDS) {
    throw invalid(`shards must be 1 (the whole product on one provider) or 2 to ${TASK_MAX_SHARDS} row blocks, got ${String(s).slice(0, 16)}`);
  }
  if (req.skill !== SHARDABLE_SKILL) throw invalid(`only ${SHARDABLE_SKILL} can be sharded (into row blocks of a); ${req.skill.slice(0, 64)} cannot`);
  if ((req.redundancy ?? 0) >= 2) throw invalid(`shards and redundancy cannot be combined: ask for shards ${s} or redundancy ${req.redundancy}, not both`);
  return s;
}

/** One block's result as the shard game sees it. */
export interface BlockResult {
  /** The block it belongs to (an index into `blocks`). */
  readonly block: number;
  /** The provider node that returned it. */
  readonly providerId: string;
  /** Passed verification and arrived by the deadline. */
  readonly counted: boolean;
}

export interface ShardSplit {
  /** The players: every node that returned a block result, in the order they first did. */
  readonly providers: readonly string[];
  /** Per provider: credits paid (sum exactly `pool`) and Shapley share of the pool (0..1). */
  readonly amounts: readonly bigint[];
  readonly shares: readonly number[];
  /** Per block: its value as a share of the whole product's work (sum 1). */
  readonly blockShares: readonly number[];
}

/**
 * Splits `pool` over the providers of `results` (arrival order). Every block must have a counted
 * result: an incomplete product is refunded, never split (the caller checks that first).
 */
export function splitShardPool(blocks: readonly RowBlock[], results: readonly BlockResult[], pool: bigint): ShardSplit {
  const providers = [...new Set(results.map((r) => r.providerId))];
  const player = new Map(providers.map((p, i) => [p, i]));
  const rows = blocks.reduce((n, b) => n + (b.end - b.start), 0);
  // Every block multiplies its rows by the same k·m, so rows are the work up to a common factor.
  const blockShares = blocks.map((b) => (b.end - b.start) / rows);
  const shards: Shard[] = blocks.map((_, j) => {
    // One completion per player and block (the game allows no more): counted if any of its was.
    const byPlayer = new Map<number, boolean>();
    for (const r of results) {
      const p = player.get(r.providerId) ?? 0;
      if (r.block === j) byPlayer.set(p, (byPlayer.get(p) ?? false) || r.counted);
    }
    // The router judged lateness already: a counted result is in time (finished 0 ≤ deadline 0).
    return { value: blockShares[j], completions: [...byPlayer].map(([p, counted]) => ({ player: p, finishedAtMs: counted ? 0 : 1, correct: counted })) };
  });
  const missing = shards.findIndex((s) => !s.completions.some((c) => c.correct));
  if (missing >= 0) throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `row block ${missing} has no verified result; an incomplete product is refunded, not split`);
  const shares = shardShapley({ players: providers.length, deadlineMs: 0, shards });
  return { providers, amounts: shapleyPayouts(shares, pool), shares, blockShares };
}

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message);
}
