import { ErrorCode, SwarmError } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import type { Game } from './game';
import { shapleyPayouts } from './payouts';
import { pipelineGame } from './pipeline-game';
import { replicaGame } from './replica-game';
import { approxShapley } from './shapley-approx';
import { exactShapley } from './shapley-exact';
import { shardGame, shardShapley } from './shard-game';

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SwarmError) return err.code;
    throw err;
  }
  return undefined;
}

/** The coalition forms of a game agree on every coalition, and its walk along every order tried. */
function expectFormsAgree(game: Game): void {
  const members = new Uint8Array(game.players);
  for (let mask = 0; mask < 1 << game.players; mask++) {
    for (let i = 0; i < game.players; i++) members[i] = (mask >>> i) & 1;
    expect(game.valueOfMembers(members)).toBe(game.valueOfMask(mask));
  }
  const random = seededRandom(11);
  const walk = game.walk();
  for (let trial = 0; trial < 20; trial++) {
    const order = Array.from({ length: game.players }, (_, i) => i).sort(() => random() - 0.5);
    expect(walk.reset()).toBe(game.valueOfMask(0));
    let mask = 0;
    for (const player of order) {
      mask |= 1 << player;
      expect(walk.add(player)).toBeCloseTo(game.valueOfMask(mask), 9);
    }
  }
}

const rounded = (xs: number[]) => xs.map((x) => Number(x.toFixed(9)));

describe('attribution - replica game', () => {
  // Players 0, 1, 3 agree (class 7); 2 failed verification; 4 verified but disagrees (class 2).
  const game = replicaGame({ agreement: [7, 7, null, 7, 2], taskValue: 120, loneValue: 30 });

  it('is worth the task once two verified results agree, less for one alone, 0 without any', () => {
    expect(game.valueOfMask(0b00011)).toBe(120);
    expect(game.valueOfMask(0b10001)).toBe(30); // verified but disagreeing
    expect(game.valueOfMask(0b00001)).toBe(30);
    expect(game.valueOfMask(0b00100)).toBe(0);
    expect(game.valueOfMask(0)).toBe(0);
    expectFormsAgree(game);
  });

  it('pays the failed replica nothing, the agreeing ones alike and more than the lone dissenter', () => {
    const phi = exactShapley(game.players, game.valueOfMask);
    expect(phi[2]).toBeCloseTo(0, 12);
    expect(phi[0]).toBeCloseTo(phi[1], 12);
    expect(phi[0]).toBeCloseTo(phi[3], 12);
    expect(phi[4]).toBeLessThan(phi[0]);
    expect(phi.reduce((a, b) => a + b, 0)).toBeCloseTo(120, 9);
    const payouts = shapleyPayouts(phi, 1_000_000n);
    expect(payouts[2]).toBe(0n);
  });

  it('splits the task equally among k agreeing replicas: free riders get 0 even among 200 players', () => {
    const agreement = Array.from({ length: 200 }, (_, i) => (i % 40 === 0 ? 1 : null));
    const big = replicaGame({ agreement, taskValue: 500, loneValue: 100 });
    const est = approxShapley(200, big.walk(), { random: seededRandom(4), permutations: 256 });
    // The walk and the membership form see the same game: with one seed, the same estimates.
    expect(approxShapley(200, big.valueOfMembers, { random: seededRandom(4), permutations: 256 })).toEqual(est);
    est.values.forEach((x, i) => {
      if (i % 40 === 0) expect(Math.abs(x - 100)).toBeLessThanOrEqual(5 * est.stdErrs[i] + 1e-9);
      else expect(x).toBe(0);
    });
    expect(codeOf(() => big.valueOfMask(1))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });

  it('refuses bad inputs', () => {
    expect(codeOf(() => replicaGame({ agreement: [], taskValue: 1, loneValue: 0 }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => replicaGame({ agreement: [1, -1], taskValue: 1, loneValue: 0 }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => replicaGame({ agreement: [1, 1.5], taskValue: 1, loneValue: 0 }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => replicaGame({ agreement: [1, 1], taskValue: 1, loneValue: 2 }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => replicaGame({ agreement: [1, 1], taskValue: Number.NaN, loneValue: 0 }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });
});

describe('attribution - shard game', () => {
  const input = {
    players: 5,
    deadlineMs: 1_000,
    shards: [
      { value: 10, completions: [{ player: 0, finishedAtMs: 400, correct: true }] },
      // Player 1 was faster but wrong; 3 was correct but late; only 2 counts.
      {
        value: 20,
        completions: [
          { player: 1, finishedAtMs: 100, correct: false },
          { player: 2, finishedAtMs: 900, correct: true },
          { player: 3, finishedAtMs: 1_001, correct: true },
        ],
      },
      // Two correct in time: the shard counts once in any coalition holding either.
      {
        value: 6,
        completions: [
          { player: 0, finishedAtMs: 10, correct: true },
          { player: 2, finishedAtMs: 20, correct: true },
        ],
      },
    ],
  };
  const game = shardGame(input);

  it('counts each shard completed correctly by the deadline once per coalition', () => {
    expect(game.valueOfMask(0b00001)).toBe(16);
    expect(game.valueOfMask(0b00101)).toBe(36);
    expect(game.valueOfMask(0b11010)).toBe(0); // wrong, late and absent work
    expectFormsAgree(game);
  });

  it('has a closed form equal to the exact enumeration; wrong, late and idle players get 0', () => {
    const phi = exactShapley(game.players, game.valueOfMask);
    expect(rounded(phi)).toEqual([13, 0, 23, 0, 0]); // shard 2's 6 shared by players 0 and 2
    expect(rounded(shardShapley(input))).toEqual(rounded(phi));
  });

  it('estimates a 60-player sharded task within 5 standard errors of its closed form', () => {
    const random = seededRandom(21);
    const many = {
      players: 60,
      deadlineMs: 100,
      shards: Array.from({ length: 120 }, (_, j) => ({
        value: 1 + (j % 7),
        completions: [0, 1, 2].map(() => ({ player: Math.floor(random() * 60), finishedAtMs: Math.floor(random() * 120), correct: random() < 0.9 })),
      })),
    };
    const exact = shardShapley(many);
    const est = approxShapley(60, shardGame(many).walk(), { random, permutations: 1024 });
    est.values.forEach((x, i) => expect(Math.abs(x - exact[i])).toBeLessThanOrEqual(5 * est.stdErrs[i] + 1e-9));
  });

  it('refuses bad inputs', () => {
    const bad = (patch: object) => codeOf(() => shardGame({ ...input, ...patch }));
    expect(bad({ players: 0 })).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(bad({ deadlineMs: Number.NaN })).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(bad({ shards: [{ value: -1, completions: [] }] })).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(bad({ shards: [{ value: 1, completions: [{ player: 5, finishedAtMs: 0, correct: true }] }] })).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(bad({ shards: [{ value: 1, completions: [{ player: 0, finishedAtMs: Number.NaN, correct: true }] }] })).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(bad({ shards: 'x' })).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });
});

describe('attribution - pipeline game', () => {
  // Stages: 0 by player 0, 1 by players 1 or 2, 2 by player 3; player 4 did nothing.
  const stages = [
    { value: 0, coveredBy: [0] },
    { value: 0, coveredBy: [1, 2] },
    { value: 60, coveredBy: [3] },
  ];
  const game = pipelineGame({ players: 5, stages });

  it('is worth nothing past a stage without its inputs', () => {
    expect(game.valueOfMask(0b01011)).toBe(60);
    expect(game.valueOfMask(0b01010)).toBe(0); // stage 0 missing: later stages count for nothing
    expect(game.valueOfMask(0b11111)).toBe(60);
    expectFormsAgree(game);
  });

  it('pays indispensable stages more than substitutable ones and the free rider 0', () => {
    const phi = exactShapley(game.players, game.valueOfMask);
    expect(phi[4]).toBeCloseTo(0, 12);
    expect(phi[0]).toBeCloseTo(phi[3], 12);
    expect(phi[1]).toBeCloseTo(phi[2], 12);
    expect(phi[1]).toBeLessThan(phi[0]);
    expect(phi.reduce((a, b) => a + b, 0)).toBeCloseTo(60, 9);
    const payouts = shapleyPayouts(phi, 600n);
    expect(payouts[4]).toBe(0n);
    expect(payouts.reduce((a, b) => a + b, 0n)).toBe(600n);
  });

  it('is estimated by its walk within 5 standard errors of the exact values', () => {
    const est = approxShapley(game.players, game.walk(), { random: seededRandom(8), permutations: 2048 });
    const phi = exactShapley(game.players, game.valueOfMask);
    est.values.forEach((x, i) => expect(Math.abs(x - phi[i])).toBeLessThanOrEqual(5 * est.stdErrs[i] + 1e-9));
    expect(est.values[4]).toBe(0);
  });

  it('credits per-stage values only when every earlier stage is covered', () => {
    const perStage = pipelineGame({
      players: 3,
      stages: [
        { value: 1, coveredBy: [0] },
        { value: 2, coveredBy: [1] },
        { value: 4, coveredBy: [2] },
      ],
    });
    expect(perStage.valueOfMask(0b001)).toBe(1);
    expect(perStage.valueOfMask(0b011)).toBe(3);
    expect(perStage.valueOfMask(0b101)).toBe(1);
    expect(perStage.valueOfMask(0b110)).toBe(0);
  });

  it('refuses bad inputs', () => {
    expect(codeOf(() => pipelineGame({ players: 2, stages: [{ value: 1, coveredBy: [2] }] }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => pipelineGame({ players: 2, stages: [{ value: Number.POSITIVE_INFINITY, coveredBy: [0] }] }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => pipelineGame({ players: 2, stages: [{ value: 1, coveredBy: 'x' as unknown as number[] }] }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => pipelineGame({ players: 1e9, stages: [] }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });
});
