/**
 * Pipelines (stage k consumes stage k−1's output): a stage is worth nothing without its inputs.
 *   v(S) = Σ_k value_k · [every stage 0..k is covered by a member of S]
 * i.e. the value of the longest prefix of stages all covered by S (with value_k = 0 for all but the
 * last stage, only a complete pipeline is worth anything). A stage is covered by the players that
 * ran it correctly; a player may cover several stages. One who covers none is a null player.
 */
import type { Game } from './game';
import { MAX_MASK_PLAYERS, MAX_PLAYERS, checkList, checkNonNegative, checkPlayer, checkPlayers, maskValueOrRefusal } from './game';

/** Stages per pipeline: far above any task graph the router runs. */
export const MAX_STAGES = 1_000;

export interface PipelineStage {
  value: number;
  /** Players that ran this stage correctly. */
  coveredBy: readonly number[];
}

export interface PipelineGameInput {
  players: number;
  stages: readonly PipelineStage[];
}

export function pipelineGame(input: PipelineGameInput): Game {
  const players = checkPlayers(input?.players, MAX_PLAYERS, 'pipelineGame');
  const values: number[] = [];
  const covers: number[][] = [];
  checkList(input.stages, MAX_STAGES, 'pipelineGame: stages').forEach((stage, k) => {
    values.push(checkNonNegative(stage?.value, `pipelineGame: stages[${k}].value`));
    const coveredBy = checkList(stage.coveredBy, players, `pipelineGame: stages[${k}].coveredBy`);
    covers.push(coveredBy.map((i, m) => checkPlayer(i, players, `pipelineGame: stages[${k}].coveredBy[${m}]`)));
  });
  const stagesOf = Array.from({ length: players }, (): number[] => []);
  covers.forEach((list, k) => list.forEach((i) => stagesOf[i].push(k)));
  const stageMasks = players <= MAX_MASK_PLAYERS ? covers.map((list) => list.reduce((m, i) => m | (1 << i), 0)) : [];
  return {
    players,
    valueOfMask: maskValueOrRefusal(players, (mask) => {
      let total = 0;
      for (let k = 0; k < stageMasks.length && (mask & stageMasks[k]) !== 0; k++) total += values[k];
      return total;
    }),
    valueOfMembers: (members) => {
      let total = 0;
      for (let k = 0; k < covers.length && covers[k].some((i) => members[i] === 1); k++) total += values[k];
      return total;
    },
    walk: () => {
      // `next`: the first stage not yet covered; the value is that of the stages before it.
      const covered = new Uint8Array(covers.length);
      let next = 0;
      let total = 0;
      return {
        reset: () => {
          covered.fill(0);
          next = 0;
          total = 0;
          return 0;
        },
        add: (player) => {
          for (const k of stagesOf[player] ?? []) covered[k] = 1;
          while (next < covers.length && covered[next] === 1) total += values[next++];
          return total;
        },
      };
    },
  };
}
