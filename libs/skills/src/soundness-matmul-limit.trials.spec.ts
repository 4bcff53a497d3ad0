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
import { attack, matmulTask, SIZE_TIMEOUT_MS, trialsFrom } from './soundness-fixtures';

const TRIALS_PER_SIZE = trialsFrom(process.env['SWARM_SOUNDNESS_TRIALS']);

describe("soundness - matmul at the node's limit rejects every wrong result", () => {
  // 700: the largest square product the node takes (README).
  it(
    'n = 700: every trial rejected',
    () => {
      const random = seededRandom(700);
      const tasks = (['uniform', 'mixed'] as const).map((dist) => matmulTask(700, dist, random));
      expect(attack(getSkill('matmul'), tasks, TRIALS_PER_SIZE, random)).toEqual([]);
    },
    SIZE_TIMEOUT_MS,
  );
});
