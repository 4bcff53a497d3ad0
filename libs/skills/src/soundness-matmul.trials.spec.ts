/**
 * Soundness (issue 10 §2): a dishonest executor's result is rejected 10,000 times out of 10,000 per
 * skill and size, each verification with fresh randomness. A few honest results per size are
 * computed once and mutated per trial (mutations.ts, every kind in turn, each output in turn), so
 * the time goes into the verifications themselves. The seed is fixed so the suite is repeatable; the
 * verifiers' bound (≤ 2^-20 per wrong result) makes any seed pass with overwhelming probability.
 *
 * At the node's limit one rejection costs milliseconds (a round of projections reads all of a, b
 * and c), so the 10,000 there take a minute or two on a 2-core box; `npm test` runs them all (the
 * issue asks for 10,000 at every size). SWARM_SOUNDNESS_TRIALS=N runs N at every size instead, for
 * a quick local run.
 */
import { seededRandom } from '@swarm/determinism';
import { getSkill } from './catalog';
import { randomValues } from './value-distributions';
import { rms } from './mutations';
import { attack, matmulTask, SIZE_TIMEOUT_MS, tensor, trialsFrom } from './soundness-fixtures';

const TRIALS_PER_SIZE = trialsFrom(process.env['SWARM_SOUNDNESS_TRIALS']);

describe('soundness - matmul rejects every wrong result', () => {
  // The ladder crosses from exact recomputation (8) to one and two column blocks of projections;
  // the node's limit (700) is soundness-matmul-limit.trials.spec.ts, so the runner spreads the minutes.
  it.each([8, 64, 160])(
    'n = %i: every trial rejected',
    (n) => {
      const random = seededRandom(n);
      const tasks = (['uniform', 'positive', 'mixed'] as const).map((dist) => matmulTask(n, dist, random));
      expect(attack(getSkill('matmul'), tasks, TRIALS_PER_SIZE, random)).toEqual([]);
    },
    SIZE_TIMEOUT_MS,
  );
});

describe('soundness - matmul on sign-sorted rows rejects an element off by more than its larger τ', () => {
  // Partial sums climbing far above the result make honest error, and so τ, larger (f32-error.ts):
  // τ reaches 1.2e-3 of the output's rms at 256 and 3.8e-3 at 700 (docs/verification.md,
  // calibration), so the element here is off by about twice that.
  it.each([
    [256, 2.5e-3, 4_000],
    [700, 8e-3, 2_000],
  ])(
    'n = %i: one element off by %f of the rms, %i trials, every one rejected',
    (n, relative, trials) => {
      const random = seededRandom(n + 2);
      const a = randomValues(n * n, n, 'sorted', random);
      const b = randomValues(n * n, n, 'positive', random);
      const inputs = [tensor('a', [n, n], a), tensor('b', [n, n], b)];
      const [c] = getSkill('matmul').reference(inputs);
      const delta = relative * rms(c.data);
      let accepted = 0;
      for (let trial = 0; trial < TRIALS_PER_SIZE && trial < trials; trial++) {
        const at = Math.floor(random() * c.data.length);
        const honest = c.data[at];
        c.data[at] += trial % 2 ? delta : -delta;
        if (getSkill('matmul').verify(inputs, [c], random).ok) accepted += 1;
        c.data[at] = honest;
      }
      expect(accepted).toBe(0);
    },
    SIZE_TIMEOUT_MS,
  );
});
