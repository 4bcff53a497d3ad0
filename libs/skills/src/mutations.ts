/**
 * The dishonest executor every verifier is tested and benchmarked against (issue 10 §2): each
 * mutation turns an honest result into a wrong one that a cheap check could miss.
 *  - one-off: one element moved by MUTATION_RELATIVE_ERROR times the tensor's typical magnitude
 *    (its root mean square), either sign;
 *  - swap: two values of one row (first dimension) that differ by at least that much, swapped;
 *  - scale: every value × (1 + MUTATION_SCALE);
 *  - zeros: every output all zeros;
 *  - stale: the result of another task with the same shapes.
 */
import type { DenseTensor } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';

export type MutationKind = 'one-off' | 'swap' | 'scale' | 'zeros' | 'stale';
export const MUTATION_KINDS: readonly MutationKind[] = Object.freeze(['one-off', 'swap', 'scale', 'zeros', 'stale']);

/** 0.1% of the typical magnitude. */
export const MUTATION_RELATIVE_ERROR = 1e-3;
export const MUTATION_SCALE = 1e-3;
/** Attempts at finding two values of one row that differ by more than the relative error. */
const SWAP_ATTEMPTS = 64;

export interface Adversary {
  /**
   * Applies one mutation to the adversary's own copy of the result, hands the wrong result to `use`,
   * then undoes it: thousands of trials on a large result cost no copies. `target` is the output
   * that one-off, swap and scale change.
   */
  attack<T>(kind: MutationKind, target: number, random: Random, use: (wrong: readonly DenseTensor[]) => T): T;
}

/** `stale`: the result of another task of the same shapes, for the 'stale' mutation. */
export function createAdversary(outputs: readonly DenseTensor[], stale?: readonly DenseTensor[]): Adversary {
  const work = outputs.map((t) => ({ ...t, data: new Float32Array(t.data) }));
  const deltas = outputs.map((t) => MUTATION_RELATIVE_ERROR * rms(t.data));
  // Whole-result mutations are the same every time: built on first use, then reused as they are.
  let zeros: DenseTensor[] | undefined;
  const scaled: Array<DenseTensor[] | undefined> = [];
  return {
    attack(kind, target, random, use) {
      if (kind === 'stale') {
        if (!stale) throw new RangeError('attack: stale needs the result of another task');
        return use(stale);
      }
      if (kind === 'zeros') {
        zeros ??= outputs.map((t) => ({ ...t, data: new Float32Array(t.data.length) }));
        return use(zeros);
      }
      if (kind === 'scale') {
        scaled[target] ??= outputs.map((t, i) => (i === target ? { ...t, data: Float32Array.from(t.data, (v) => v * (1 + MUTATION_SCALE)) } : t));
        return use(scaled[target]);
      }
      const t = work[target];
      const data = t.data;
      const [i, j] = kind === 'one-off' ? oneOff(data, deltas[target], random) : swapInRow(data, rowWidth(t), deltas[target], random);
      try {
        return use(work);
      } finally {
        data[i] = outputs[target].data[i];
        data[j] = outputs[target].data[j];
      }
    },
  };
}

/** One mutation, as a fresh copy (the adversary's buffers are reused). */
export function mutate(kind: MutationKind, outputs: readonly DenseTensor[], target: number, random: Random, stale?: readonly DenseTensor[]): DenseTensor[] {
  return createAdversary(outputs, stale).attack(kind, target, random, (wrong) => wrong.map((t) => ({ ...t, data: new Float32Array(t.data) })));
}

export function rms(data: Float32Array): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i] * data[i];
  return (s / data.length) ** 0.5;
}

function rowWidth(t: DenseTensor): number {
  return t.shape.length > 1 ? t.data.length / t.shape[0] : t.data.length;
}

function pick(n: number, random: Random): number {
  return (random() * n) | 0;
}

/** Returns the changed index (twice). */
function oneOff(data: Float32Array, delta: number, random: Random): [number, number] {
  const at = pick(data.length, random);
  data[at] += random() < 0.5 ? -delta : delta;
  return [at, at];
}

function swapInRow(data: Float32Array, width: number, minDiff: number, random: Random): [number, number] {
  const rows = data.length / width;
  for (let attempt = 0; attempt < SWAP_ATTEMPTS; attempt++) {
    const base = pick(rows, random) * width;
    const i = base + pick(width, random);
    const j = base + pick(width, random);
    const d = data[i] - data[j];
    if ((d < 0 ? -d : d) >= minDiff) {
      [data[i], data[j]] = [data[j], data[i]];
      return [i, j];
    }
  }
  throw new RangeError(`attack: no two values of one row differ by ${minDiff} (rows of ${width})`);
}
