import { ErrorCode } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import fc from 'fast-check';
import type { AttemptOutcome, AttemptReport } from './attempt-report';
import type { Candidate, TrustReader } from './candidate';
import { compareScores, createDefaultSelector, scoreCandidate } from './default-selector';
import { createTrustBook } from './trust-book';

const TASK = { taskId: 't1', skill: 'matmul' };
const DAY = 86_400_000;
const nodeIds = fc.constantFrom('n0', 'n1', 'n2', 'n3');
const outcome = fc.constantFrom<AttemptOutcome>('ok', 'failed', 'timeout', 'overloaded', 'cut-short', 'unjudged', 'rejected-by-verification');
/** Attempts as a router records them: a node, how it ended, and how long after the previous one. */
const step = fc.record({ nodeId: nodeIds, outcome, gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 * DAY })) });
const history = fc.array(step, { maxLength: 40 });

function report(nodeId: string, o: AttemptOutcome): AttemptReport {
  return { ...TASK, candidate: { nodeId, local: false }, outcome: o, ms: 1, errorCode: o === 'ok' ? undefined : ErrorCode.ERROR_CODE_EXECUTION_FAILED };
}

/** A book that has lived through `steps`; answers the time of the last one. */
function replay(steps: ReadonlyArray<{ nodeId: string; outcome: AttemptOutcome; gapMs: number }>, book = createTrustBook()): number {
  let now = 0;
  for (const s of steps) {
    now += s.gapMs;
    book.record(report(s.nodeId, s.outcome), now);
  }
  return now;
}

describe('scoring - trust book properties', () => {
  it('keeps every trust in [0, 1], whatever happens and whenever it is read', () => {
    fc.assert(
      fc.property(history, fc.nat({ max: 400 * DAY }), (steps, later) => {
        const book = createTrustBook();
        const now = replay(steps, book);
        for (const id of ['n0', 'n1', 'n2', 'n3']) {
          for (const t of [now, now + later]) {
            const tau = book.trustOf(id, t);
            expect(tau).toBeGreaterThanOrEqual(0);
            expect(tau).toBeLessThanOrEqual(1);
          }
        }
      }),
    );
  });

  it('decays the same whether idle time passes in one step or two (an update that changes nothing between them changes nothing)', () => {
    fc.assert(
      fc.property(history, nodeIds, fc.integer({ min: 0, max: 60 * DAY }), fc.integer({ min: 0, max: 60 * DAY }), (steps, id, a, b) => {
        const once = createTrustBook();
        const twice = createTrustBook();
        const now = replay(steps, once);
        replay(steps, twice);
        // 'overloaded' materializes the decay at now + a without changing τ otherwise.
        twice.record(report(id, 'overloaded'), now + a);
        const direct = once.trustOf(id, now + a + b);
        expect(twice.trustOf(id, now + a + b)).toBeCloseTo(direct, 12);
        expect(Math.abs(twice.trustOf(id, now + a + b) - direct)).toBeLessThanOrEqual(1e-12 + 1e-9 * direct);
      }),
    );
  });

  it('never raises a trust with a rejected attempt, nor lowers one with a verified attempt', () => {
    fc.assert(
      fc.property(history, nodeIds, fc.nat({ max: 10 * DAY }), (steps, id, gap) => {
        const book = createTrustBook();
        const now = replay(steps, book) + gap;
        const before = book.trustOf(id, now);
        book.record(report(id, 'rejected-by-verification'), now);
        const afterReject = book.trustOf(id, now);
        expect(afterReject).toBeLessThanOrEqual(before);
        book.record(report(id, 'ok'), now);
        expect(book.trustOf(id, now)).toBeGreaterThanOrEqual(afterReject);
      }),
    );
  });

  it('keeps an untrusted node untrusted, at zero trust, whatever it does and however many others come', () => {
    fc.assert(
      fc.property(history, history, nodeIds, fc.integer({ min: 1, max: 4 }), (before, after, id, maxNodes) => {
        const book = createTrustBook({ maxNodes });
        const t = replay(before, book);
        book.distrust(id);
        const now = t + replay(after, book);
        for (let i = 0; i < 20; i++) book.record(report(`other-${i}`, 'ok'), now);
        expect(book.isUntrusted(id)).toBe(true);
        expect(book.trustOf(id, now)).toBe(0);
        expect(book.list(now, 1_000).find((n) => n.nodeId === id)).toMatchObject({ untrusted: true, trust: 0 });
        expect(book.size().trusted).toBeLessThanOrEqual(maxNodes);
      }),
    );
  });
});

describe('scoring - default selector properties with trust', () => {
  const candidate: fc.Arbitrary<Candidate> = fc.record({
    nodeId: nodeIds,
    local: fc.boolean(),
    load: fc.double({ min: 0, max: 1, noNaN: true }),
    price: fc.constantFrom(1, 2),
    rttMs: fc.double({ min: 1, max: 200, noNaN: true }),
  });
  const situation = fc.record({
    list: fc.uniqueArray(candidate, { selector: (c) => c.nodeId, minLength: 1, maxLength: 4 }),
    trust: fc.dictionary(nodeIds, fc.double({ min: 0, max: 1, noNaN: true })),
    untrusted: fc.subarray(['n0', 'n1', 'n2', 'n3']),
    seed: fc.integer(),
  });
  const readerOf = (trust: Record<string, number>, untrusted: string[]): TrustReader => ({
    trustOf: (id) => (untrusted.includes(id) ? 0 : (trust[id] ?? 0)),
    isUntrusted: (id) => untrusted.includes(id),
  });

  it('never chooses an untrusted candidate; chooses a best one among the others, or none when none is left', () => {
    fc.assert(
      fc.property(situation, ({ list, trust, untrusted, seed }) => {
        const reader = readerOf(trust, untrusted);
        const chosen = createDefaultSelector(seededRandom(seed), reader).select(TASK, list, []);
        const eligible = list.filter((c) => !untrusted.includes(c.nodeId));
        if (eligible.length === 0) return expect(chosen).toBeUndefined();
        expect(eligible).toContain(chosen);
        const best = scoreCandidate(chosen as Candidate, [], reader);
        for (const c of eligible) expect(compareScores(scoreCandidate(c, [], reader), best)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('never makes a candidate lose by trusting it more', () => {
    fc.assert(
      fc.property(situation, fc.double({ min: 0, max: 1, noNaN: true }), ({ list, trust, seed }, extra) => {
        const chosen = createDefaultSelector(seededRandom(seed), readerOf(trust, [])).select(TASK, list, []) as Candidate;
        const more = { ...trust, [chosen.nodeId]: Math.min(1, (trust[chosen.nodeId] ?? 0) + extra) };
        const reader = readerOf(more, []);
        const score = scoreCandidate(chosen, [], reader);
        for (const c of list) expect(compareScores(scoreCandidate(c, [], reader), score)).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
