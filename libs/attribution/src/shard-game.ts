/**
 * Sharded tasks with a deadline (a large matmul split into row blocks): a shard is worth its value
 * to a coalition when some member completed it correctly by the deadline; late or wrong work counts
 * for nothing.
 *   v(S) = Σ_shards value_j · [∃ i ∈ S: i completed shard j correctly, at or before the deadline]
 * Within a coalition the shard counts once, whoever of its members was fastest: redundant in-time
 * work adds nothing. v is a sum of "any of C_j" games, so the Shapley value has a closed form
 * (`shardShapley`): each shard's value is shared equally by its in-time correct contributors C_j —
 * a single fastest correct contributor gets all of it.
 */
import type { Game } from './game';
import { MAX_MASK_PLAYERS, MAX_PLAYERS, checkList, checkNonNegative, checkPlayer, checkPlayers, checkValue, maskValueOrRefusal } from './game';

/** Shards per task: far above the row blocks of the largest matmul the node accepts. */
export const MAX_SHARDS = 100_000;

export interface ShardCompletion {
  player: number;
  /** When the player's result for the shard arrived (ms, any clock shared with the deadline). */
  finishedAtMs: number;
  /** Whether the shard's result passed verification. */
  correct: boolean;
}

export interface Shard {
  value: number;
  completions: readonly ShardCompletion[];
}

export interface ShardGameInput {
  players: number;
  deadlineMs: number;
  shards: readonly Shard[];
}

/** Per shard, the distinct players that completed it correctly by the deadline. */
function creditedContributors(input: ShardGameInput): { players: number; values: number[]; credited: number[][] } {
  const players = checkPlayers(input?.players, MAX_PLAYERS, 'shardGame');
  const deadline = checkValue(input.deadlineMs, 'shardGame: deadlineMs');
  const values: number[] = [];
  const credited: number[][] = [];
  checkList(input.shards, MAX_SHARDS, 'shardGame: shards').forEach((shard, j) => {
    values.push(checkNonNegative(shard?.value, `shardGame: shards[${j}].value`));
    const inTime = new Set<number>();
    checkList(shard.completions, players, `shardGame: shards[${j}].completions`).forEach((c, k) => {
      const where = `shardGame: shards[${j}].completions[${k}]`;
      const player = checkPlayer(c?.player, players, `${where}.player`);
      const finishedAt = checkValue(c.finishedAtMs, `${where}.finishedAtMs`);
      if (c.correct === true && finishedAt <= deadline) inTime.add(player);
    });
    credited.push([...inTime].sort((a, b) => a - b));
  });
  return { players, values, credited };
}

export function shardGame(input: ShardGameInput): Game {
  const { players, values, credited } = creditedContributors(input);
  const shardsOf = Array.from({ length: players }, (): number[] => []);
  credited.forEach((list, j) => list.forEach((i) => shardsOf[i].push(j)));
  const shardMasks = players <= MAX_MASK_PLAYERS ? credited.map((list) => list.reduce((m, i) => m | (1 << i), 0)) : [];
  return {
    players,
    valueOfMask: maskValueOrRefusal(players, (mask) => {
      let total = 0;
      for (let j = 0; j < shardMasks.length; j++) if ((mask & shardMasks[j]) !== 0) total += values[j];
      return total;
    }),
    valueOfMembers: (members) => {
      let total = 0;
      for (let j = 0; j < credited.length; j++) if (credited[j].some((i) => members[i] === 1)) total += values[j];
      return total;
    },
    walk: () => {
      // A shard's value arrives with the first of its credited contributors to join.
      const present = new Int32Array(credited.length);
      let total = 0;
      return {
        reset: () => {
          present.fill(0);
          total = 0;
          return 0;
        },
        add: (player) => {
          for (const j of shardsOf[player] ?? []) if (present[j]++ === 0) total += values[j];
          return total;
        },
      };
    },
  };
}

/** Exact Shapley values of `shardGame(input)` in O(completions), for any number of players. */
export function shardShapley(input: ShardGameInput): number[] {
  const { players, values, credited } = creditedContributors(input);
  const phi = new Array<number>(players).fill(0);
  credited.forEach((list, j) => {
    for (const i of list) phi[i] += values[j] / list.length;
  });
  return phi;
}
