import { ErrorCode } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import type { AttemptOutcome, AttemptReport } from './attempt-report';
import type { Candidate } from './candidate';
import { compareScores, createDefaultSelector, scoreCandidate, UNKNOWN_RTT_MS } from './default-selector';

const TASK = { taskId: 't1', skill: 'vecadd' };

function attempt(candidate: Candidate, outcome: AttemptOutcome): AttemptReport {
  return { ...TASK, candidate, outcome, ms: 1, errorCode: outcome === 'ok' ? undefined : ErrorCode.ERROR_CODE_EXECUTION_FAILED };
}

/** A Random that must not be drawn from. */
const noDraws = () => {
  throw new Error('drew a random number without a tie');
};

describe('scoring - default selector', () => {
  const local: Candidate = { nodeId: 'self', local: true };
  const remoteIdle: Candidate = { nodeId: 'idle', local: false, load: 0, price: 1 };
  const remoteBusy: Candidate = { nodeId: 'busy', local: false, load: 0.9, price: 1 };
  const remoteCheap: Candidate = { nodeId: 'cheap', local: false, load: 0.9, price: 0.5 };

  it("counts as proven this node's executors and remote nodes it has verified (τ > 0), not new, suspect or untrusted ones", () => {
    const trust = {
      trustOf: (id: string) => (id === 'new' ? 0 : 0.3),
      isUntrusted: (id: string) => id === 'forked',
      isSuspect: (id: string) => id === 'wrong-lately',
    };
    const selector = createDefaultSelector(seededRandom(1), trust);
    const proven = (nodeId: string, local = false) => selector.isProven?.({ nodeId, local });
    expect([proven('me', true), proven('verified'), proven('new'), proven('forked'), proven('wrong-lately')]).toEqual([true, true, false, false, false]);
    // Without a trust reader only this node's executors are.
    expect([
      createDefaultSelector(seededRandom(1)).isProven?.({ nodeId: 'me', local: true }),
      createDefaultSelector(seededRandom(1)).isProven?.({ nodeId: 'x', local: false }),
    ]).toEqual([true, false]);
  });

  it('chooses none when there is no candidate', () => {
    expect(createDefaultSelector(noDraws).select(TASK, [], [])).toBeUndefined();
  });

  it('chooses a lone candidate without drawing, even one that failed this task', () => {
    const select = createDefaultSelector(noDraws);
    expect(select.select(TASK, [local], [])).toBe(local);
    expect(select.select(TASK, [local], [attempt(local, 'timeout'), attempt(local, 'failed')])).toBe(local);
  });

  it('prefers local, then the lowest advertised load, then the lowest advertised price', () => {
    const select = createDefaultSelector(noDraws);
    expect(select.select(TASK, [remoteIdle, local], [])).toBe(local);
    expect(select.select(TASK, [remoteBusy, remoteIdle], [])).toBe(remoteIdle);
    expect(select.select(TASK, [remoteBusy, remoteCheap], [])).toBe(remoteCheap);
  });

  it('orders remote candidates by load × measured round trip, then price, then round trip', () => {
    const select = createDefaultSelector(noDraws);
    const nearBusy: Candidate = { nodeId: 'near-busy', local: false, load: 0.8, rttMs: 2, price: 5 };
    const farIdle: Candidate = { nodeId: 'far-idle', local: false, load: 0.1, rttMs: 40, price: 5 };
    // 0.8 × 2 = 1.6 beats 0.1 × 40 = 4: a nearly full node next door waits less than a far idle one.
    expect(select.select(TASK, [farIdle, nearBusy], [])).toBe(nearBusy);
    expect(select.select(TASK, [nearBusy, { ...farIdle, rttMs: 10 }], [])?.nodeId).toBe('far-idle');
    // Both idle: both waits are 0, so price decides, then the nearer one.
    const idleNear: Candidate = { nodeId: 'idle-near', local: false, load: 0, rttMs: 3, price: 2 };
    const idleFar: Candidate = { nodeId: 'idle-far', local: false, load: 0, rttMs: 90, price: 1 };
    expect(select.select(TASK, [idleNear, idleFar], [])).toBe(idleFar);
    expect(select.select(TASK, [idleFar, { ...idleNear, price: 1 }], [])?.nodeId).toBe('idle-near');
    // Local comes first while it has spare capacity, however slow a remote one's numbers make it look...
    expect(select.select(TASK, [idleNear, { nodeId: 'self', local: true, load: 0.99 }], [])?.nodeId).toBe('self');
    expect(
      select.select(
        TASK,
        [
          { ...idleNear, load: 1, rttMs: 9_000 },
          { nodeId: 'self', local: true },
        ],
        [],
      )?.nodeId,
    ).toBe('self');
    // ...and after every remote one once saturated (issue 13: local if it has spare capacity, else the best remote).
    expect(
      select.select(
        TASK,
        [
          { nodeId: 'self', local: true, load: 1 },
          { ...idleNear, load: 1, rttMs: 9_000 },
        ],
        [],
      )?.nodeId,
    ).toBe('idle-near');
  });

  it('counts an unknown or invalid round trip as UNKNOWN_RTT_MS, so a measured peer wins at equal load', () => {
    const select = createDefaultSelector(noDraws);
    const measured: Candidate = { nodeId: 'measured', local: false, load: 0.5, rttMs: 200 };
    for (const rttMs of [undefined, 0, -3, Number.NaN]) {
      const unmeasured: Candidate = { nodeId: 'unmeasured', local: false, load: 0.5, ...(rttMs === undefined ? {} : { rttMs }) };
      expect(scoreCandidate(unmeasured, []).rttMs).toBe(UNKNOWN_RTT_MS);
      expect(select.select(TASK, [unmeasured, measured], [])).toBe(measured);
    }
    expect(scoreCandidate({ nodeId: 'slow', local: false, rttMs: Number.POSITIVE_INFINITY }, []).rttMs).toBe(UNKNOWN_RTT_MS);
    expect(scoreCandidate({ nodeId: 'self', local: true, rttMs: 50 }, []).rttMs).toBe(0);
  });

  it('moves a retry away from the candidate that failed, whatever its other merits', () => {
    const select = createDefaultSelector(noDraws);
    expect(select.select(TASK, [local, remoteBusy], [attempt(local, 'overloaded')])).toBe(remoteBusy);
    expect(select.select(TASK, [local, remoteBusy], [attempt(local, 'rejected-by-verification'), attempt(remoteBusy, 'timeout'), attempt(remoteBusy, 'failed')])).toBe(local);
  });

  it('treats unknown or invalid advertised load and price as the worst', () => {
    const select = createDefaultSelector(noDraws);
    const silent: Candidate = { nodeId: 'silent', local: false };
    const lying: Candidate = { nodeId: 'lying', local: false, load: -5, price: Number.NaN };
    const honest: Candidate = { nodeId: 'honest', local: false, load: 1, price: 1_000 };
    expect(select.select(TASK, [silent, honest], [])).toBe(honest);
    expect(scoreCandidate(lying, [])).toEqual(scoreCandidate(silent, []));
    expect(scoreCandidate(lying, [])).toEqual({
      suspect: false,
      failures: 0,
      unprovenLast: false,
      busy: false,
      local: false,
      tier: 1,
      load: 1,
      rttMs: UNKNOWN_RTT_MS,
      price: Number.POSITIVE_INFINITY,
      trust: 0,
    });
  });

  it('breaks ties with the injected random, repeatably for a seed', () => {
    const equals: Candidate[] = ['a', 'b', 'c', 'd'].map((nodeId) => ({ nodeId, local: false, load: 0.5 }));
    const picks = (seed: number) => {
      const select = createDefaultSelector(seededRandom(seed));
      return Array.from({ length: 40 }, () => select.select(TASK, equals, [])?.nodeId);
    };
    expect(picks(3)).toEqual(picks(3));
    expect(new Set(picks(3))).toEqual(new Set(['a', 'b', 'c', 'd']));
    expect(createDefaultSelector(() => 0).select(TASK, equals, [])).toBe(equals[0]);
    expect(createDefaultSelector(() => 0.99).select(TASK, equals, [])).toBe(equals[3]);
    // Outside Random's contract, yet still one of the tied candidates.
    expect(createDefaultSelector(() => 1).select(TASK, equals, [])).toBe(equals[3]);
  });

  it('once an attempt at the task failed, tries proven candidates (local, or τ > 0) before unproven ones, whatever they claim', () => {
    const trust = { trustOf: (id: string) => (id === 'proven' ? 0.2 : 0), isUntrusted: () => false };
    const select = createDefaultSelector(noDraws, trust);
    const fake = (id: string): Candidate => ({ nodeId: id, local: false, load: 0, price: 0, rttMs: Number(id.slice(1)) });
    const proven: Candidate = { nodeId: 'proven', local: false, load: 0.9, price: 50, rttMs: 200 };
    const saturatedLocal: Candidate = { nodeId: 'self', local: true, load: 1 };
    // The first attempt goes by the claims (a new node may win it)...
    expect(select.select(TASK, [fake('f1'), fake('f2'), proven], [])).toEqual(fake('f1'));
    // ...a retry to the proven one, not to the next fresh identity; then to this node's own executors.
    expect(select.select(TASK, [fake('f1'), fake('f2'), proven], [attempt(fake('f1'), 'timeout')])).toBe(proven);
    expect(select.select(TASK, [fake('f1'), fake('f2'), saturatedLocal], [attempt(fake('f1'), 'failed')])).toBe(saturatedLocal);
    expect(scoreCandidate(fake('f2'), [attempt(fake('f1'), 'overloaded')], trust).unprovenLast).toBe(true);
    expect(scoreCandidate(fake('f2'), [attempt(fake('f1'), 'ok')], trust).unprovenLast).toBe(false);
    // An attempt with less than its fair time (a short deadline) goes to the proven one from the start,
    // but not to a saturated local executor: an idle remote comes first there, as for any first attempt.
    expect(select.select({ ...TASK, shortened: true }, [fake('f1'), fake('f2'), proven], [])).toBe(proven);
    expect(select.select({ ...TASK, shortened: true }, [fake('f1'), saturatedLocal], [])).toEqual(fake('f1'));
    expect(select.select({ ...TASK, shortened: true }, [fake('f1'), { ...saturatedLocal, load: 0.5 }], [])).toEqual({ ...saturatedLocal, load: 0.5 });
    // With no proven candidate (a swarm of new nodes), the claims still decide.
    expect(select.select(TASK, [{ ...fake('f2'), load: 0.5 }, fake('f3')], [attempt(fake('f1'), 'timeout')])).toEqual(fake('f3'));
  });

  it('counts only failures of the same node; an ok attempt is no failure', () => {
    expect(scoreCandidate(local, [attempt(local, 'ok'), attempt(remoteIdle, 'failed')]).failures).toBe(0);
    expect(scoreCandidate(local, [attempt({ ...local }, 'failed')]).failures).toBe(1);
  });

  it('orders scores by suspicion, failures, proof on a retry, a refusal lately, then locality, expected wait, price and round trip', () => {
    const base = { suspect: false, failures: 0, unprovenLast: false, busy: false, local: true, tier: 0 as const, load: 0.5, rttMs: 0, price: 1, trust: 0 };
    expect(compareScores({ ...base, failures: 2, tier: 2, load: 1 }, { ...base, suspect: true, load: 0, price: 0 })).toBeLessThan(0);
    expect(compareScores(base, { ...base, failures: 1, local: true, load: 0 })).toBeLessThan(0);
    expect(compareScores({ ...base, tier: 2, load: 1 }, { ...base, unprovenLast: true, local: false, tier: 1, load: 0 })).toBeLessThan(0);
    expect(compareScores({ ...base, unprovenLast: true }, { ...base, failures: 1 })).toBeLessThan(0);
    // Busy (said "full" lately) after a retry's proof, before locality, load and price.
    expect(compareScores({ ...base, busy: true }, { ...base, unprovenLast: true })).toBeLessThan(0);
    expect(compareScores({ ...base, tier: 2, load: 1, price: 9 }, { ...base, busy: true, local: false, tier: 1, load: 0, price: 0 })).toBeLessThan(0);
    expect(compareScores(base, { ...base, local: false, tier: 1, load: 0 })).toBeLessThan(0);
    expect(compareScores({ ...base, local: false, tier: 1, load: 1, rttMs: 10_000 }, { ...base, tier: 2, load: 1 })).toBeLessThan(0);
    expect(compareScores(base, { ...base, load: 0.6, price: 0 })).toBeLessThan(0);
    expect(compareScores(base, { ...base, price: 2 })).toBeLessThan(0);
    expect(compareScores(base, { ...base })).toBe(0);
    const remote = { ...base, local: false, tier: 1 as const, rttMs: 10 };
    expect(compareScores(remote, { ...remote, load: 0.1, rttMs: 60, price: 0 })).toBeLessThan(0);
    expect(compareScores({ ...remote, load: 0 }, { ...remote, load: 0, rttMs: 20 })).toBeLessThan(0);
    expect(compareScores({ ...remote, load: 0, price: 2 }, { ...remote, load: 0, rttMs: 20 })).toBeGreaterThan(0);
  });
});
