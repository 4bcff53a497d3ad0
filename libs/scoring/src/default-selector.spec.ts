import { ErrorCode } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import type { AttemptOutcome, AttemptReport } from './attempt-report';
import type { Candidate } from './candidate';
import { compareScores, createDefaultSelector, scoreCandidate } from './default-selector';

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
    expect(scoreCandidate(lying, [])).toEqual({ failures: 0, local: false, load: 1, price: Number.POSITIVE_INFINITY });
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

  it('counts only failures of the same node; an ok attempt is no failure', () => {
    expect(scoreCandidate(local, [attempt(local, 'ok'), attempt(remoteIdle, 'failed')]).failures).toBe(0);
    expect(scoreCandidate(local, [attempt({ ...local }, 'failed')]).failures).toBe(1);
  });

  it('orders scores by failures, then locality, load and price', () => {
    const base = { failures: 0, local: true, load: 0.5, price: 1 };
    expect(compareScores(base, { ...base, failures: 1, local: true, load: 0 })).toBeLessThan(0);
    expect(compareScores(base, { ...base, local: false, load: 0 })).toBeLessThan(0);
    expect(compareScores(base, { ...base, load: 0.6, price: 0 })).toBeLessThan(0);
    expect(compareScores(base, { ...base, price: 2 })).toBeLessThan(0);
    expect(compareScores(base, { ...base })).toBe(0);
  });
});
