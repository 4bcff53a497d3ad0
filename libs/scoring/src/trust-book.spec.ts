import { decayTrust, DEFAULT_TRUST_DECAY } from '@swarm/chain';
import { ErrorCode } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import { seededRandom } from '@swarm/determinism';
import type { AttemptOutcome, AttemptReport } from './attempt-report';
import type { Candidate } from './candidate';
import { createDefaultSelector } from './default-selector';
import type { TrustSnapshotEntry } from './trust-book';
import { createTrustBook, DEFAULT_TRUST_RULES, trustObserver, trustReader } from './trust-book';

const DAY = 86_400_000;
const TASK = { taskId: 't1', skill: 'vecadd' };

function remote(nodeId: string, extra: Partial<Candidate> = {}): Candidate {
  return { nodeId, local: false, ...extra };
}

function attempt(nodeId: string, outcome: AttemptOutcome, local = false): AttemptReport {
  return { ...TASK, candidate: { nodeId, local }, outcome, ms: 1, errorCode: outcome === 'ok' ? undefined : ErrorCode.ERROR_CODE_EXECUTION_FAILED };
}

/** A Random that must not be drawn from. */
const noDraws = () => {
  throw new Error('drew a random number without a tie');
};

describe('scoring - trust book', () => {
  it('starts every node at zero trust; verified attempts raise it toward 1, rejected ones halve it', () => {
    const book = createTrustBook();
    expect(book.trustOf('n1', 0)).toBe(0);
    book.record(attempt('n1', 'ok'), 0);
    expect(book.trustOf('n1', 0)).toBeCloseTo(0.1, 12);
    book.record(attempt('n1', 'ok'), 0);
    expect(book.trustOf('n1', 0)).toBeCloseTo(0.19, 12);
    for (let i = 0; i < 28; i++) book.record(attempt('n1', 'ok'), 0);
    expect(book.trustOf('n1', 0)).toBeCloseTo(1 - 0.9 ** 30, 12);
    const before = book.trustOf('n1', 0);
    book.record(attempt('n1', 'rejected-by-verification'), 0);
    expect(book.trustOf('n1', 0)).toBeCloseTo(before / 2, 12);
    expect(book.list(0, 10)).toEqual([{ nodeId: 'n1', trust: book.trustOf('n1', 0), verified: 30, rejected: 1, unprovenFailures: 0, untrusted: false }]);
  });

  it('makes a node whose result was rejected a suspect for suspectMs, a new node too, and the selector tries it last', () => {
    const book = createTrustBook({ suspectMs: 60_000 });
    const reader = trustReader(book, { now: () => 30_000 });
    book.record(attempt('liar', 'rejected-by-verification'), 0);
    // A node with seven verified results (τ ≈ 0.52) that fails once is no suspect (stallSlack).
    for (let i = 0; i < 7; i++) book.record(attempt('honest', 'ok'), 0);
    book.record(attempt('honest', 'failed'), 0);
    expect([book.trustOf('liar', 0), book.isSuspect('liar', 59_999), book.isSuspect('liar', 60_000), book.isSuspect('honest', 1)]).toEqual([0, true, false, false]);
    // Claiming no load and no price does not bring a suspect back before an honest, busier, dearer node.
    const liar = remote('liar', { load: 0, price: 0, rttMs: 1 });
    const busy = remote('busy', { load: 0.9, price: 50, rttMs: 200 });
    expect(createDefaultSelector(noDraws, reader).select(TASK, [liar, busy], [])).toBe(busy);
    // As callers that narrow candidates first (a sharded task) ask it.
    expect([createDefaultSelector(noDraws, reader).isSuspect?.(liar), createDefaultSelector(noDraws, reader).isSuspect?.(busy)]).toEqual([true, false]);
    // Alone, it is still tried (its suspicion ends, and a swarm of one provider keeps working).
    expect(createDefaultSelector(noDraws, reader).select(TASK, [liar], [])).toBe(liar);
    expect(createDefaultSelector(noDraws, trustReader(book, { now: () => 60_000 })).select(TASK, [liar, busy], [])).toBe(liar);
  });

  it('makes a node below stallSlack that fails or times out a suspect for stallSuspectMs, until its next verified result', () => {
    const book = createTrustBook({ stallSuspectMs: 600_000 });
    book.record(attempt('staller', 'timeout'), 0);
    book.record(attempt('erring', 'failed'), 0);
    book.record(attempt('busy', 'overloaded'), 0);
    book.record(attempt('cut', 'cut-short'), 0);
    book.record(attempt('unjudged', 'unjudged'), 0);
    // An unproven node that only says it is full wastes attempts as a silent one does; a node never
    // verified that does not answer within a shortened time cannot be told from one that never does.
    expect([
      book.isSuspect('staller', 599_999),
      book.isSuspect('staller', 600_000),
      book.isSuspect('erring', 1),
      book.isSuspect('busy', 1),
      book.isSuspect('cut', 1),
      book.isSuspect('unjudged', 1),
    ]).toEqual([true, false, true, true, true, false]);
    // A node verified once (τ 0.1) is not made a suspect by an attempt the deadline cut short.
    book.record(attempt('verified-once', 'ok'), 0);
    book.record(attempt('verified-once', 'cut-short'), 0);
    expect(book.isSuspect('verified-once', 1)).toBe(false);
    // Tried when nothing else is left; a verified result there clears it at once.
    book.record(attempt('staller', 'ok'), 1_000);
    expect(book.isSuspect('staller', 1_001)).toBe(false);
    // A young node (τ 0.19 < 0.5) is a suspect after a stall; with τ ≥ 0.5 it keeps its place.
    for (let i = 0; i < 2; i++) book.record(attempt('young', 'ok'), 0);
    book.record(attempt('young', 'timeout'), 0);
    for (let i = 0; i < 7; i++) book.record(attempt('proven', 'ok'), 0);
    book.record(attempt('proven', 'timeout'), 0);
    expect([book.isSuspect('young', 1), book.isSuspect('proven', 1)]).toEqual([true, false]);
    // A stall's suspicion outlives nothing of a rejection's: rejected, then verified, still a suspect.
    book.record(attempt('liar', 'rejected-by-verification'), 0);
    book.record(attempt('liar', 'ok'), 1);
    expect(book.isSuspect('liar', 2)).toBe(true);
    expect(() => createTrustBook({ stallSuspectMs: -1 })).toThrow(/stallSuspectMs must be an integer >= 0/);
    expect(() => createTrustBook({ stallSlack: 2 })).toThrow(/stallSlack must be in 0..1/);
  });

  it('lets six stalling identities cost a few attempts in all, not every task', () => {
    /** 20 tasks of up to 3 attempts, the fakes timing out; answers [tasks served, attempts wasted]. */
    const run = (honestProven: boolean, fakesAnswer: AttemptOutcome = 'timeout'): [number, number] => {
      const book = createTrustBook();
      let now = 0;
      const select = createDefaultSelector(seededRandom(1), trustReader(book, { now: () => now }));
      const fakes = Array.from({ length: 6 }, (_, i) => remote(`fake-${i}`, { load: 0, price: 0, rttMs: 1 }));
      const honest = remote('honest', { load: 0.3, price: 10, rttMs: 5 });
      if (honestProven) book.record(attempt('honest', 'ok'), 0);
      let served = 0;
      let wasted = 0;
      for (let task = 0; task < 20; task++) {
        const attempts: AttemptReport[] = [];
        for (let i = 0; i < 3; i++) {
          const chosen = select.select({ taskId: `t${task}`, skill: 'vecadd' }, [...fakes, honest], attempts) as Candidate;
          const report = { ...attempt(chosen.nodeId, chosen === honest ? 'ok' : fakesAnswer), taskId: `t${task}` };
          attempts.push(report);
          book.record(report, now);
          now += 1_000;
          if (chosen === honest) {
            served++;
            break;
          }
          wasted++;
        }
      }
      return [served, wasted];
    };
    // With a proven node, each fake costs one task one attempt (a suspect after it), and every task is served.
    expect(run(true)).toEqual([20, 6]);
    // In a swarm where nobody is proven yet, the fakes take the first two tasks' three attempts, once each.
    expect(run(false)).toEqual([18, 6]);
    // The same whatever they answer: "full", an error, or nothing within a shortened time.
    for (const answer of ['overloaded', 'failed', 'cut-short'] as const) expect([answer, run(false, answer)]).toEqual([answer, [18, 6]]);
  });

  it('lets any number of never-verified identities cost at most the probation budget while a proven node is left', () => {
    /** `tasks` tasks a second apart, each tried until served; answers the attempts the fakes wasted, and whether the budget is open at the end. */
    const run = (fakeCount: number, tasks: number, rules = {}, honestProven = true): [number, boolean] => {
      const book = createTrustBook(rules);
      let now = 0;
      const select = createDefaultSelector(seededRandom(2), trustReader(book, { now: () => now }));
      const fakes = Array.from({ length: fakeCount }, (_, i) => remote(`fake-${i}`, { load: 0, price: 0, rttMs: 1 }));
      const honest = remote('honest', { load: 0.3, price: 10, rttMs: 5 });
      if (honestProven) book.record(attempt('honest', 'ok'), 0);
      let wasted = 0;
      for (let task = 0; task < tasks; task++, now += 1_000) {
        const attempts: AttemptReport[] = [];
        for (;;) {
          const chosen = select.select({ taskId: `t${task}`, skill: 'vecadd' }, [...fakes, honest], attempts) as Candidate;
          const report = { ...attempt(chosen.nodeId, chosen === honest ? 'ok' : 'timeout'), taskId: `t${task}` };
          attempts.push(report);
          book.record(report, now);
          if (chosen === honest) break;
          wasted++;
        }
      }
      return [wasted, book.probationOpen(now)];
    };
    // 100 identities over 200 s: the budget's 10, then one a minute (at 60, 120 and 180 s). Before
    // probation each of them cost one attempt (100); and with fewer than the budget, as many.
    expect(run(100, 200)).toEqual([13, false]);
    expect(run(6, 200)).toEqual([6, true]);
    // A budget of 0: no attempt at an unproven node while a proven one is left.
    expect(run(100, 200, { probationAttempts: 0 })).toEqual([0, false]);
    // A swarm where nobody is proven yet charges nothing: every fake gets its attempt (a new swarm bootstraps).
    expect(run(100, 40, {}, false)[1]).toBe(true);
  });

  it('probes a newcomer one attempt at a time, charges only a choice over a proven node, and gives it back when the newcomer proves itself', () => {
    const book = createTrustBook({ probationAttempts: 2 });
    const select = createDefaultSelector(noDraws, trustReader(book, { now: () => 0 }));
    book.record(attempt('proven', 'ok'), 0);
    const proven = remote('proven', { load: 0.5, price: 10, rttMs: 5 });
    const newcomer = remote('newcomer', { load: 0, price: 1, rttMs: 1 });
    const other = remote('other', { load: 0, price: 2, rttMs: 1 });
    // The idle newcomer wins on load: its probe, one of the two attempts the budget holds.
    expect(select.select(TASK, [proven, newcomer], [])).toBe(newcomer);
    expect(book.isProbing('newcomer', 0)).toBe(true);
    // While its probe is in flight, the next task goes to the proven node, the budget open or not.
    expect(select.select(TASK, [proven, newcomer], [])).toBe(proven);
    expect(select.select(TASK, [proven, newcomer, other], [])).toBe(other);
    expect(book.probationOpen(0)).toBe(false);
    // Spent: the proven node first, whatever the others claim; a saturated local executor too.
    const third = remote('third', { load: 0, price: 0, rttMs: 1 });
    expect(select.select(TASK, [proven, third], [])).toBe(proven);
    const local = { nodeId: 'self', local: true, load: 1 };
    expect(select.select(TASK, [third, local], [])).toBe(local);
    // With no proven choice left, the newcomers are tried, uncharged and whatever their probes.
    expect(select.select(TASK, [newcomer, third], [])).toBe(third);
    expect(book.isProbing('third', 0)).toBe(false);
    // The newcomer's verified result ends its probe and gives its attempt back.
    book.record(attempt('newcomer', 'ok'), 0);
    expect([book.isProbing('newcomer', 0), book.probationOpen(0)]).toEqual([false, true]);
    expect(select.select(TASK, [proven, third], [])).toBe(third);
    expect(book.probationOpen(0)).toBe(false);
    // A probe never recorded (never dispatched) ends after stallSuspectMs.
    expect(book.isProbing('other', DEFAULT_TRUST_RULES.stallSuspectMs - 1)).toBe(true);
    expect(book.isProbing('other', DEFAULT_TRUST_RULES.stallSuspectMs)).toBe(false);
    // Charges overdraw it down to minus the budget, no further; one comes back per refill.
    for (let i = 0; i < 5; i++) book.chargeProbation('again', 0);
    expect(book.probationOpen(2 * DEFAULT_TRUST_RULES.probationRefillMs)).toBe(false);
    expect(book.probationOpen(3 * DEFAULT_TRUST_RULES.probationRefillMs)).toBe(true);
  });

  it('marks a node that answered "full" busy for 1 s, doubling per refusal in a row up to a minute, until its next verified result', () => {
    const book = createTrustBook();
    for (let i = 0; i < 10; i++) book.record(attempt('n1', 'ok'), 0);
    expect(book.isBusy('n1', 0)).toBe(false);
    // A trusted node (τ ≥ stallSlack) is no suspect for "full", but busy for its window.
    const windows: number[] = [];
    let now = 0;
    for (let i = 0; i < 9; i++) {
      book.record(attempt('n1', 'overloaded'), now);
      let end = now;
      while (book.isBusy('n1', end)) end += 100;
      windows.push(end - now);
      now = end;
    }
    expect(windows).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(book.isSuspect('n1', now)).toBe(false);
    // Other outcomes neither end nor extend a run of refusals; a verified result ends it.
    book.record(attempt('n1', 'overloaded'), now);
    book.record(attempt('n1', 'timeout'), now + 10);
    expect(book.isBusy('n1', now + 59_999)).toBe(true);
    book.record(attempt('n1', 'ok'), now + 20);
    expect(book.isBusy('n1', now + 20)).toBe(false);
    book.record(attempt('n1', 'overloaded'), now + 30);
    expect([book.isBusy('n1', now + 1_029), book.isBusy('n1', now + 1_030)]).toEqual([true, false]);
    // Refusals of attempts already in flight (within the window) do not lengthen it; one long after it starts a new run.
    const book2 = createTrustBook();
    for (const at of [0, 10, 20, 30]) book2.record(attempt('n2', 'overloaded'), at);
    expect([book2.isBusy('n2', 1_029), book2.isBusy('n2', 1_030)]).toEqual([true, false]);
    book2.record(attempt('n2', 'overloaded'), 2_000);
    expect([book2.isBusy('n2', 3_999), book2.isBusy('n2', 4_000)]).toEqual([true, false]);
    book2.record(attempt('n2', 'overloaded'), 10_000);
    expect([book2.isBusy('n2', 10_999), book2.isBusy('n2', 11_000)]).toEqual([true, false]);
    // Unknown nodes and this node's own executors are never busy.
    book.record(attempt('mine', 'overloaded', true), now);
    expect([book.isBusy('mine', now), book.isBusy('never-seen', now)]).toEqual([false, false]);
  });

  it('lets a trusted node that says "full" to every task cost one quick refusal a minute, not one per task', () => {
    /** 300 tasks, one a second; the liar is proven (τ ≥ stallSlack) and claims load 0, price 0, the nearest. */
    const run = (busyBaseMs: number): [number, number] => {
      const book = createTrustBook({ busyBaseMs });
      const select = createDefaultSelector(seededRandom(1), trustReader(book, { now: () => now }));
      let now = 0;
      const liar = remote('liar', { load: 0, price: 0, rttMs: 1 });
      const honest = remote('honest', { load: 0.3, price: 10, rttMs: 5 });
      for (let i = 0; i < 10; i++) for (const n of ['liar', 'honest']) book.record(attempt(n, 'ok'), 0);
      let served = 0;
      let refused = 0;
      for (let task = 0; task < 300; task++, now += 1_000) {
        const attempts: AttemptReport[] = [];
        for (let i = 0; i < 3; i++) {
          const chosen = select.select({ taskId: `t${task}`, skill: 'vecadd' }, [liar, honest], attempts) as Candidate;
          const report = { ...attempt(chosen.nodeId, chosen === honest ? 'ok' : 'overloaded'), taskId: `t${task}` };
          attempts.push(report);
          book.record(report, now);
          if (chosen === honest) {
            served++;
            break;
          }
          refused++;
        }
      }
      return [served, refused];
    };
    // Without the busy window (0 ms): every task's first attempt goes to the liar.
    expect(run(0)).toEqual([300, 300]);
    // With it: refusals at 0, 1, 3, 7, 15, 31 and 63 s, then one a minute (123, 183, 243 s).
    expect(run(DEFAULT_TRUST_RULES.busyBaseMs)).toEqual([300, 10]);
  });

  it('keeps a stall suspect one across a restart, for what is left of its window by the wall clock', () => {
    const b = 'b'.repeat(64);
    const before = createTrustBook();
    before.record(attempt(b, 'timeout'), 10_000);
    const WALL = 1_700_000_000_000;
    const [kept] = before.snapshot(10_000 + 60_000, WALL);
    expect(kept).toMatchObject({ stalledAtMs: WALL - 60_000 });
    expect(kept.rejectedAtMs).toBeUndefined();
    const after = createTrustBook();
    after.restore([kept], 0, WALL + 60_000);
    expect([after.isSuspect(b, 0), after.isSuspect(b, 479_999), after.isSuspect(b, 480_000)]).toEqual([true, true, false]);
    expect(createTrustBook().restore([{ ...kept, stalledAtMs: 1.5 }], 0, WALL)).toEqual({ restored: 0, skipped: 1 });
  });

  it('cuts trust slightly for a failure or a timeout, not at all for an honest "overloaded"', () => {
    const book = createTrustBook();
    for (let i = 0; i < 5; i++) book.record(attempt('n1', 'ok'), 0);
    const t = book.trustOf('n1', 0);
    book.record(attempt('n1', 'overloaded'), 0);
    expect(book.trustOf('n1', 0)).toBe(t);
    book.record(attempt('n1', 'failed'), 0);
    expect(book.trustOf('n1', 0)).toBeCloseTo(t * 0.98, 12);
    book.record(attempt('n1', 'timeout'), 0);
    expect(book.trustOf('n1', 0)).toBeCloseTo(t * 0.98 * 0.98, 12);
    expect(book.list(0, 1)[0]).toMatchObject({ verified: 5, rejected: 0 });
  });

  it('decays an idle node by decayTrust: 5% a day, counted from its last attempt', () => {
    const book = createTrustBook();
    for (let i = 0; i < 10; i++) book.record(attempt('n1', 'ok'), 1_000);
    const t = book.trustOf('n1', 1_000);
    expect(book.trustOf('n1', 1_000 + DAY)).toBeCloseTo(t * 0.95, 12);
    expect(book.trustOf('n1', 1_000 + 10 * DAY)).toBeCloseTo(decayTrust(t, 10 * DAY, DEFAULT_TRUST_DECAY), 12);
    // A verified attempt after a week of idleness starts from the decayed value.
    book.record(attempt('n1', 'ok'), 1_000 + 7 * DAY);
    const decayed = t * 0.95 ** 7;
    expect(book.trustOf('n1', 1_000 + 7 * DAY)).toBeCloseTo(decayed + 0.1 * (1 - decayed), 12);
    // A stopwatch read out of order decays nothing, and throws nothing.
    expect(book.trustOf('n1', 0)).toBe(book.trustOf('n1', 1_000 + 7 * DAY));
    expect(book.trustOf('n1', Number.NaN)).toBe(book.trustOf('n1', 1_000 + 7 * DAY));
  });

  it('marks a node untrusted for good: zero trust whatever it does next, listed last', () => {
    const book = createTrustBook();
    for (let i = 0; i < 3; i++) book.record(attempt('bad', 'ok'), 0);
    book.record(attempt('good', 'ok'), 0);
    expect(book.distrust('bad')).toBe(true);
    expect(book.distrust('bad')).toBe(false);
    for (let i = 0; i < 3; i++) book.record(attempt('bad', 'ok'), 1);
    expect(book.isUntrusted('bad')).toBe(true);
    expect(book.trustOf('bad', 1)).toBe(0);
    expect(book.list(1, 10)).toEqual([
      { nodeId: 'good', trust: book.trustOf('good', 1), verified: 1, rejected: 0, unprovenFailures: 0, untrusted: false },
      { nodeId: 'bad', trust: 0, verified: 6, rejected: 0, unprovenFailures: 0, untrusted: true },
    ]);
    // A node never seen can be marked too (a proof from an audit, before any attempt).
    expect(book.distrust('stranger')).toBe(true);
    expect(book.size()).toEqual({ trusted: 1, untrusted: 2 });
  });

  it("does not judge this node's own executors", () => {
    const book = createTrustBook();
    book.record(attempt('self', 'ok', true), 0);
    expect(book.trustOf('self', 0)).toBe(0);
    expect(book.size()).toEqual({ trusted: 0, untrusted: 0 });
  });

  it('holds at most maxNodes trusts, forgetting the least recently recorded; untrusted marks apart, up to maxUntrusted', () => {
    const book = createTrustBook({ maxNodes: 3, maxUntrusted: 2 });
    for (const id of ['a', 'b', 'c']) book.record(attempt(id, 'ok'), 0);
    book.record(attempt('a', 'ok'), 1); // a is now the most recent
    book.record(attempt('d', 'ok'), 2); // b goes
    expect(book.trustOf('b', 2)).toBe(0);
    // c has been idle 2 ms longer than d.
    expect(book.list(2, 10).map((n) => n.nodeId)).toEqual(['a', 'd', 'c']);
    book.distrust('x');
    book.distrust('y');
    for (let i = 0; i < 100; i++) book.record(attempt(`n${i}`, 'ok'), 3);
    expect([book.isUntrusted('x'), book.isUntrusted('y')]).toEqual([true, true]);
    expect(book.size()).toEqual({ trusted: 3, untrusted: 2 });
    // Beyond maxUntrusted the oldest mark goes first.
    book.distrust('z');
    expect([book.isUntrusted('x'), book.isUntrusted('y'), book.isUntrusted('z')]).toEqual([false, true, true]);
  });

  it('lists at most `limit` nodes, most trusted first, ties by node id', () => {
    const book = createTrustBook();
    for (const id of ['c', 'b', 'a']) book.record(attempt(id, 'ok'), 0);
    book.record(attempt('c', 'ok'), 0);
    book.distrust('u');
    expect(book.list(0, 3).map((n) => n.nodeId)).toEqual(['c', 'a', 'b']);
    expect(book.list(0, 10).map((n) => n.nodeId)).toEqual(['c', 'a', 'b', 'u']);
    expect(book.list(0, 0)).toEqual([]);
  });

  it('counts results that failed their check without proof apart from rejections, through a conviction and a restart', () => {
    const [a, b] = ['a', 'b'].map((x) => x.repeat(64));
    const book = createTrustBook();
    const unproven: AttemptReport = { ...attempt(a, 'failed'), errorCode: ErrorCode.ERROR_CODE_VERIFICATION_FAILED };
    for (let i = 0; i < 10; i++) book.record(attempt(a, 'ok'), 0);
    const before = book.trustOf(a, 0);
    book.record(unproven, 0);
    book.record(unproven, 0);
    // A failure's cut each (2 %), not a rejection's half; other failures are not counted as unproven.
    expect(book.trustOf(a, 0)).toBeCloseTo(before * 0.98 ** 2, 12);
    book.record(attempt(a, 'failed'), 0);
    book.record(attempt(a, 'rejected-by-verification'), 0);
    expect(book.list(0, 10)).toEqual([{ nodeId: a, trust: book.trustOf(a, 0), verified: 10, rejected: 1, unprovenFailures: 2, untrusted: false }]);
    const WALL = 1_700_000_000_000;
    const kept = book.snapshot(0, WALL);
    expect(kept[0]).toMatchObject({ verified: 10, rejected: 1, unprovenFailures: 2 });
    const after = createTrustBook();
    // A file written before the counter (no field) restores with none; a bad count is skipped.
    const { unprovenFailures: _, ...old } = { ...kept[0], nodeId: b };
    expect(after.restore([kept[0], old, { ...kept[0], nodeId: 'c'.repeat(64), unprovenFailures: -1 }], 0, WALL)).toEqual({ restored: 2, skipped: 1 });
    expect(after.list(0, 10).map((n) => [n.nodeId, n.unprovenFailures])).toEqual([
      [a, 2],
      [b, 0],
    ]);
    // Convicted: the counts stay on the list.
    after.distrust(a);
    after.record(unproven, 0);
    expect(after.list(0, 10).find((n) => n.nodeId === a)).toMatchObject({ untrusted: true, unprovenFailures: 3 });
  });

  it('keeps trust across a restart: a snapshot restored in a new book, decayed by the wall time between', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64));
    const before = createTrustBook();
    for (let i = 0; i < 10; i++) before.record(attempt(a, 'ok'), 5_000);
    before.record(attempt(b, 'ok'), 6_000);
    before.record(attempt(b, 'rejected-by-verification'), 6_000);
    before.record(attempt(c, 'ok'), 7_000);
    before.distrust(c);
    const WALL = 1_700_000_000_000;
    const kept = before.snapshot(7_000, WALL);
    // Least recently recorded first; the untrusted node's record is its fork proof, not this.
    expect(kept.map((k) => k.nodeId)).toEqual([a, b]);
    expect(kept[0]).toEqual({ nodeId: a, trust: before.trustOf(a, 7_000), verified: 10, rejected: 0, unprovenFailures: 0, atMs: WALL });
    // The next process: its stopwatch starts again at 0; a day of wall time went by while it was down.
    const after = createTrustBook();
    expect(after.restore(kept, 0, WALL + DAY)).toEqual({ restored: 2, skipped: 0 });
    expect(after.trustOf(a, 0)).toBeCloseTo(before.trustOf(a, 7_000) * 0.95, 12);
    expect(after.trustOf(b, 0)).toBeCloseTo(before.trustOf(b, 7_000) * 0.95, 12);
    expect(after.list(0, 10).map((n) => [n.nodeId, n.verified, n.rejected])).toEqual([
      [a, 10, 0],
      [b, 1, 1],
    ]);
    // And decays on from there on its own stopwatch.
    expect(after.trustOf(a, DAY)).toBeCloseTo(before.trustOf(a, 7_000) * 0.95 ** 2, 12);
    // A snapshot dated ahead of the clock decays nothing.
    const ahead = createTrustBook();
    ahead.restore(kept, 0, WALL - DAY);
    expect(ahead.trustOf(a, 0)).toBe(kept[0].trust);
  });

  it('keeps a suspect a suspect across a restart, for what is left of its hour by the wall clock', () => {
    const b = 'b'.repeat(64);
    const before = createTrustBook();
    before.record(attempt(b, 'rejected-by-verification'), 10_000);
    const WALL = 1_700_000_000_000;
    // Snapshot 20 minutes after the rejection: 40 minutes of suspicion left.
    const [kept] = before.snapshot(10_000 + 1_200_000, WALL);
    expect(kept.rejectedAtMs).toBe(WALL - 1_200_000);
    const after = createTrustBook();
    after.restore([kept], 0, WALL + 600_000);
    expect([after.isSuspect(b, 0), after.isSuspect(b, 1_799_999), after.isSuspect(b, 1_800_000)]).toEqual([true, true, false]);
    // None once its hour is over; and a date that is not one is refused as the rest is.
    expect(createTrustBook().snapshot(0, WALL).length).toBe(0);
    expect(before.snapshot(10_000 + 3_600_000, WALL)[0].rejectedAtMs).toBeUndefined();
    expect(createTrustBook().restore([{ ...kept, rejectedAtMs: -1 }], 0, WALL)).toEqual({ restored: 0, skipped: 1 });
  });

  it('restores only entries that hold, never over a held or untrusted node, and at most maxNodes', () => {
    const id = (i: number) => i.toString(16).padStart(64, '0');
    const good = { nodeId: id(1), trust: 0.5, verified: 3, rejected: 0, atMs: 1_000 };
    const bad = [
      { ...good, nodeId: 'n1' },
      { ...good, nodeId: id(0xabc).toUpperCase() },
      { ...good, nodeId: id(3), trust: 1.5 },
      { ...good, nodeId: id(4), trust: Number.NaN },
      { ...good, nodeId: id(5), verified: -1 },
      { ...good, nodeId: id(6), rejected: 0.5 },
      { ...good, nodeId: id(7), atMs: Number.POSITIVE_INFINITY },
      null,
      'x',
    ] as unknown as TrustSnapshotEntry[];
    const book = createTrustBook({ maxNodes: 3 });
    book.distrust(id(8));
    book.record(attempt(id(9), 'ok'), 0);
    const kept = [good, ...bad, { ...good, nodeId: id(8) }, { ...good, nodeId: id(9), trust: 1 }, { ...good, nodeId: id(10) }, { ...good, nodeId: id(11) }];
    expect(book.restore(kept, 0, 1_000)).toEqual({ restored: 2, skipped: kept.length - 2 });
    expect(book.trustOf(id(1), 0)).toBe(0.5);
    expect(book.trustOf(id(9), 0)).toBeCloseTo(0.1, 12);
    expect(book.trustOf(id(10), 0)).toBe(0.5);
    expect(book.trustOf(id(11), 0)).toBe(0);
    expect(book.isUntrusted(id(8))).toBe(true);
    expect(book.size()).toEqual({ trusted: 3, untrusted: 1 });
  });

  it('refuses rules out of range', () => {
    expect(() => createTrustBook({ gain: 2 })).toThrow(/gain must be in 0..1/);
    expect(() => createTrustBook({ maxNodes: 0 })).toThrow(/maxNodes must be an integer >= 1/);
    expect(() => createTrustBook({ suspectMs: -1 })).toThrow(/suspectMs must be an integer >= 0/);
    expect(() => createTrustBook({ busyMaxMs: 0.5 })).toThrow(/busyMaxMs must be an integer >= 0/);
    expect(() => createTrustBook({ decay: { beta: 0.1, periodMs: 0 } })).toThrow(/periodMs must be > 0/);
    expect(() => createTrustBook({ probationAttempts: -1 })).toThrow(/probationAttempts must be an integer >= 0/);
    expect(() => createTrustBook({ probationRefillMs: 0 })).toThrow(/probationRefillMs must be an integer >= 1/);
    expect(DEFAULT_TRUST_RULES).toMatchObject({ gain: 0.1, rejectCut: 0.5, failCut: 0.02, maxNodes: 10_000, probationAttempts: 10, probationRefillMs: 60_000 });
  });

  it('feeds the default selector through trustObserver and trustReader, read at the stopwatch time', () => {
    const book = createTrustBook();
    let now = 0;
    const stopwatch = { now: () => now };
    const observer = trustObserver(book, stopwatch);
    const select = createDefaultSelector(noDraws, trustReader(book, stopwatch));
    const known = remote('known', { load: 0.5, rttMs: 10, price: 1 });
    const fresh = remote('fresh', { load: 0.45, rttMs: 10, price: 1 });
    // No trust yet: the lower wait wins.
    expect(select.select(TASK, [known, fresh], [])).toBe(fresh);
    for (let i = 0; i < 20; i++) observer.onAttempt(attempt('known', 'ok'));
    // 0.5 × 10 × (1 − 0.25 × 0.88) = 3.9 beats 4.5: trusted and a little busier wins.
    expect(select.select(TASK, [known, fresh], [])).toBe(known);
    // A new node still wins when clearly less busy.
    expect(select.select(TASK, [known, { ...fresh, load: 0.2 }], [])?.nodeId).toBe('fresh');
    // Half a year idle: the trust has faded and the lower wait wins again.
    now = 180 * DAY;
    expect(select.select(TASK, [known, fresh], [])).toBe(fresh);
  });
});

describe('scoring - the default selector with trust', () => {
  const selectorWith = (trust: Record<string, number>, untrusted: string[] = [], random: Random = noDraws) =>
    createDefaultSelector(random, { trustOf: (id) => trust[id] ?? 0, isUntrusted: (id) => untrusted.includes(id) });

  it('never chooses an untrusted node, however good it looks; none at all when only untrusted ones are left', () => {
    const liar = remote('liar', { load: 0, rttMs: 1, price: 0 });
    const honest = remote('honest', { load: 1, rttMs: 9_000, price: 100 });
    const select = selectorWith({ liar: 1 }, ['liar']);
    expect(select.select(TASK, [liar, honest], [])).toBe(honest);
    expect(select.select(TASK, [liar], [])).toBeUndefined();
    // ...even when every other candidate failed this task already.
    expect(select.select(TASK, [liar, honest], [attempt('honest', 'failed')])).toBe(honest);
  });

  it('gives every task to new nodes when they are the only providers: a new swarm bootstraps', () => {
    const news = ['a', 'b', 'c'].map((id) => remote(id, { load: 0.5, rttMs: 10 }));
    const select = selectorWith({}, [], seededRandom(7));
    const picks = new Set(Array.from({ length: 30 }, () => select.select(TASK, news, [])?.nodeId));
    expect(picks).toEqual(new Set(['a', 'b', 'c']));
  });

  it('prefers the more trusted of two idle remote candidates at one price, before the nearer one', () => {
    const near = remote('near', { load: 0, rttMs: 3, price: 1 });
    const far = remote('far', { load: 0, rttMs: 90, price: 1 });
    expect(selectorWith({ far: 0.3, near: 0.2 }).select(TASK, [near, far], [])).toBe(far);
    expect(selectorWith({ far: 0.3, near: 0.3 }).select(TASK, [near, far], [])).toBe(near);
    // Price still comes first.
    expect(selectorWith({ far: 0.9 }).select(TASK, [near, { ...far, price: 2 }], [])?.nodeId).toBe('near');
  });

  it('keeps local first while it has spare capacity, and retries away from a failed node, whatever the trust', () => {
    const self: Candidate = { nodeId: 'self', local: true, load: 0.9 };
    const trusted = remote('trusted', { load: 0, rttMs: 1, price: 0 });
    const select = selectorWith({ trusted: 1 });
    expect(select.select(TASK, [trusted, self], [])).toBe(self);
    expect(select.select(TASK, [trusted, remote('new', { load: 1, rttMs: 9_000 })], [attempt('trusted', 'timeout')])?.nodeId).toBe('new');
  });

  it('treats a reader value outside 0..1 as the nearest bound, and NaN as 0', () => {
    const a = remote('a', { load: 0.5, rttMs: 10 });
    const b = remote('b', { load: 0.5, rttMs: 10 });
    expect(selectorWith({ a: 7, b: 1 }, [], () => 0).select(TASK, [b, a], [])).toBe(b);
    expect(selectorWith({ a: Number.NaN, b: -3 }, [], () => 0).select(TASK, [b, a], [])).toBe(b);
    expect(selectorWith({ a: Number.NaN, b: 0.1 }).select(TASK, [a, b], [])).toBe(b);
  });
});
