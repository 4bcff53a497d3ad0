/**
 * Attribution, pure: who earned what when several nodes contributed to one task. Shapley values
 * (exact by subset enumeration, or Monte-Carlo with antithetic permutations and standard errors), the
 * protocol's value functions (replicas, shards with a deadline, pipelines) and integer payouts that
 * sum exactly to the pool. Coalitions: bitmasks for `exactShapley` (n ≤ 20), membership vectors for
 * `approxShapley` (any n), or a game's incremental walk; see game.ts. Randomness is a parameter.
 */
export { exactShapley, shapleyWeights, MAX_EXACT_PLAYERS } from './shapley-exact';
export { approxShapley, DEFAULT_PERMUTATIONS, MIN_PERMUTATIONS, MAX_PERMUTATIONS, MIN_PAIRS_FOR_TARGET } from './shapley-approx';
export type { ApproxShapleyOptions, ShapleyEstimate } from './shapley-approx';
export { shapleyPayouts } from './payouts';
export { fromMaskValue, membershipWalk, MAX_MASK_PLAYERS, MAX_PLAYERS } from './game';
export type { CoalitionWalk, Game, MaskValue, MembershipValue } from './game';
export { replicaGame } from './replica-game';
export type { ReplicaGameInput } from './replica-game';
export { shardGame, shardShapley, MAX_SHARDS } from './shard-game';
export type { Shard, ShardCompletion, ShardGameInput } from './shard-game';
export { pipelineGame, MAX_STAGES } from './pipeline-game';
export type { PipelineGameInput, PipelineStage } from './pipeline-game';
