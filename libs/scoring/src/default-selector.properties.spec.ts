import { ErrorCode } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import fc from 'fast-check';
import type { AttemptOutcome, AttemptReport } from './attempt-report';
import type { Candidate } from './candidate';
import { compareScores, createDefaultSelector, scoreCandidate } from './default-selector';

const TASK = { taskId: 't1', skill: 'matmul' };
const nodeIds = fc.constantFrom('n0', 'n1', 'n2', 'n3', 'n4', 'n5');
// Includes values a peer might advertise wrongly: NaN, negatives, beyond 1, Infinity.
const advertised = fc.option(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(Number.NaN, -1, 2, Number.POSITIVE_INFINITY)), { nil: undefined });
// Round trips as a registry reports them (0: not measured) and as a bug might (NaN, negative, Infinity).
const rtt = fc.option(fc.oneof(fc.double({ min: 0, max: 20_000, noNaN: true }), fc.constantFrom(Number.NaN, -1, Number.POSITIVE_INFINITY)), { nil: undefined });
const candidate: fc.Arbitrary<Candidate> = fc
  .record({ nodeId: nodeIds, local: fc.boolean(), load: advertised, price: advertised, rttMs: rtt })
  .map(({ load, price, rttMs, ...rest }) => ({
    ...rest,
    ...(load === undefined ? {} : { load }),
    ...(price === undefined ? {} : { price }),
    ...(rttMs === undefined ? {} : { rttMs }),
  }));
const candidates = fc.uniqueArray(candidate, { selector: (c) => c.nodeId, minLength: 1, maxLength: 6 });
const outcome = fc.constantFrom<AttemptOutcome>('failed', 'timeout', 'overloaded', 'cut-short', 'unjudged', 'rejected-by-verification');

/** Failed attempts at some of the candidates (an attempt that ended 'ok' ends the task). */
function attemptsOn(list: Candidate[]): fc.Arbitrary<AttemptReport[]> {
  return fc.array(
    fc
      .record({ index: fc.nat({ max: list.length - 1 }), outcome })
      .map(({ index, outcome: o }): AttemptReport => ({ ...TASK, candidate: list[index], outcome: o, ms: 1, errorCode: ErrorCode.ERROR_CODE_EXECUTION_FAILED })),
    { maxLength: 8 },
  );
}
const situation = candidates.chain((list) => fc.record({ list: fc.constant(list), attempts: attemptsOn(list), seed: fc.integer() }));

describe('scoring - default selector properties', () => {
  it('always chooses one of the candidates, and never one that failed this task while another has not', () => {
    fc.assert(
      fc.property(situation, ({ list, attempts, seed }) => {
        const chosen = createDefaultSelector(seededRandom(seed)).select(TASK, list, attempts);
        expect(chosen).toBeDefined();
        expect(list).toContain(chosen);
        const failed = new Set(attempts.map((a) => a.candidate.nodeId));
        if (list.some((c) => !failed.has(c.nodeId))) expect(failed.has((chosen as Candidate).nodeId)).toBe(false);
      }),
    );
  });

  it('chooses a best candidate: none scores strictly better', () => {
    fc.assert(
      fc.property(situation, ({ list, attempts, seed }) => {
        const chosen = createDefaultSelector(seededRandom(seed)).select(TASK, list, attempts) as Candidate;
        const chosenScore = scoreCandidate(chosen, attempts);
        for (const c of list) expect(compareScores(scoreCandidate(c, attempts), chosenScore)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('is deterministic for a fixed seed', () => {
    fc.assert(
      fc.property(situation, ({ list, attempts, seed }) => {
        const run = () => {
          const selector = createDefaultSelector(seededRandom(seed));
          return [0, 1, 2].map(() => selector.select(TASK, list, attempts)?.nodeId);
        };
        expect(run()).toEqual(run());
      }),
    );
  });

  it('does not depend on the order of the candidates, except to break a tie', () => {
    const reordered = situation.chain((s) => fc.record({ s: fc.constant(s), shuffled: fc.shuffledSubarray(s.list, { minLength: s.list.length }) }));
    fc.assert(
      fc.property(reordered, ({ s: { list, attempts, seed }, shuffled }) => {
        const a = createDefaultSelector(seededRandom(seed)).select(TASK, list, attempts) as Candidate;
        const b = createDefaultSelector(seededRandom(seed)).select(TASK, shuffled, attempts) as Candidate;
        expect(compareScores(scoreCandidate(a, attempts), scoreCandidate(b, attempts))).toBe(0);
      }),
    );
  });

  it('goes remote only when no local candidate with spare capacity, and no remote one with a lower load × round trip, failed as rarely and as proven; a saturated local one last', () => {
    fc.assert(
      fc.property(situation, ({ list, attempts, seed }) => {
        const best = scoreCandidate(createDefaultSelector(seededRandom(seed)).select(TASK, list, attempts) as Candidate, attempts);
        if (best.tier === 0) return;
        for (const s of list.map((c) => scoreCandidate(c, attempts)).filter((x) => x.failures === best.failures && x.unprovenLast === best.unprovenLast)) {
          // Nobody as reliable had spare local capacity; a saturated local one only when no remote one is left.
          expect(s.tier).not.toBe(0);
          if (best.tier === 2) expect(s.tier).toBe(2);
          if (best.tier === 1 && s.tier === 1) expect(s.load * s.rttMs).toBeGreaterThanOrEqual(best.load * best.rttMs);
        }
      }),
    );
  });

  it('compares scores as a total order: antisymmetric, transitive, and total', () => {
    const score = fc.tuple(candidate, fc.nat({ max: 3 }), fc.boolean()).map(([c, failures, unprovenLast]) => ({ ...scoreCandidate(c, []), failures, unprovenLast }));
    fc.assert(
      fc.property(score, score, score, (a, b, c) => {
        expect(compareScores(a, a)).toBe(0);
        expect(Math.sign(compareScores(a, b))).toBe(-Math.sign(compareScores(b, a)) || 0);
        if (compareScores(a, b) <= 0 && compareScores(b, c) <= 0) expect(compareScores(a, c)).toBeLessThanOrEqual(0);
        if (compareScores(a, b) === 0) expect(a).toEqual(b);
      }),
    );
  });
});
