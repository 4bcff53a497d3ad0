/**
 * Value distributions the verifiers are calibrated and tested on (docs/verification.md): honest f32
 * error depends on the data as much as on the summation order, so every tolerance is measured on all.
 */
import type { Random } from '@swarm/determinism';

export type ValueDistribution = 'uniform' | 'positive' | 'mixed' | 'offset' | 'cancel' | 'sorted';
export const VALUE_DISTRIBUTIONS: readonly ValueDistribution[] = Object.freeze(['uniform', 'positive', 'mixed', 'offset', 'cancel', 'sorted']);

type Draw = (col: number, width: number, random: Random) => number;

/**
 *  - uniform: [-1, 1);  positive: [0, 1);  mixed: random sign, magnitude 10^U(-3, 3);
 *  - offset: 1 + U(0, 0.01), almost constant (large results, no cancellation);
 *  - cancel: alternating signs along each row, magnitudes 1 + U(0, 0.001) (results ≈ 0, huge cancellation);
 *  - sorted: each row positive in its first half and negative in its second (partial sums climb,
 *    then fall: the worst case of the probabilistic error model, see f32-error.ts).
 */
const DRAW: Readonly<Record<ValueDistribution, Draw>> = {
  uniform: (_c, _w, random) => random() * 2 - 1,
  positive: (_c, _w, random) => random(),
  mixed: (_c, _w, random) => (random() < 0.5 ? -1 : 1) * 10 ** (random() * 6 - 3),
  offset: (_c, _w, random) => 1 + random() * 0.01,
  cancel: (col, _w, random) => (col % 2 ? 1 : -1) * (1 + random() * 0.001),
  sorted: (col, width, random) => (col < width / 2 ? 1 : -1) * (0.5 + random() * 0.5),
};

/** `count` values of `dist`, row-major in rows of `width`, times `scale`. */
export function randomValues(count: number, width: number, dist: ValueDistribution, random: Random, scale = 1): Float32Array {
  const draw = DRAW[dist];
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = scale * draw(i % width, width, random);
  return out;
}
