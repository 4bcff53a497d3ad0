import { manualClock } from '@swarm/determinism';
import { createPeerAdmission, LEDGER_LANE_LIMITS } from './peer-admission';

describe('peer admission - per-peer limits', () => {
  it('admits up to maxInflight per peer, independently of other peers, and again after a release', () => {
    const admission = createPeerAdmission({ maxInflight: 2, ratePerSecond: 1_000, burst: 1_000 }, manualClock());
    admission.connected('a');
    admission.connected('b');
    const first = admission.admit('a');
    const second = admission.admit('a');
    expect([first.admitted, second.admitted]).toEqual([true, true]);
    expect(admission.admit('a')).toMatchObject({ admitted: false, reason: 'peer has 2 calls in flight (limit 2 per peer)' });
    expect(admission.admit('b').admitted).toBe(true);
    if (first.admitted) {
      first.release();
      first.release(); // once only
    }
    expect(admission.admit('a').admitted).toBe(true);
    expect(admission.admit('a').admitted).toBe(false);
  });

  it("honours a peer's requests to be recorded within its own budget, per peer, refilled over time", () => {
    const clock = manualClock();
    const admission = createPeerAdmission({ maxInflight: 100, ratePerSecond: 1_000, burst: 1_000, recordedPerSecond: 2, recordedBurst: 3 }, clock);
    expect(admission.mayRecord('a')).toBe(false); // no connection, nothing recorded
    admission.connected('a');
    admission.connected('b');
    expect(Array.from({ length: 5 }, () => admission.mayRecord('a'))).toEqual([true, true, true, false, false]);
    expect(admission.mayRecord('b')).toBe(true);
    clock.advance(500);
    expect([admission.mayRecord('a'), admission.mayRecord('a')]).toEqual([true, false]);
  });

  it('refuses a peer over its rate with the wait until its next token', () => {
    const clock = manualClock();
    const admission = createPeerAdmission({ maxInflight: 100, ratePerSecond: 10, burst: 2 }, clock);
    admission.connected('a');
    const take = () => {
      const r = admission.admit('a');
      if (r.admitted) r.release();
      return r;
    };
    expect([take().admitted, take().admitted]).toEqual([true, true]);
    expect(take()).toMatchObject({ admitted: false, retryAfterMs: 100, reason: 'peer exceeded 10 calls/s (burst 2); retry in 100 ms' });
    clock.advance(100);
    expect(take().admitted).toBe(true);
  });

  it('refuses a peer with no connection and forgets a peer once its last connection closes', () => {
    const admission = createPeerAdmission({ maxInflight: 1, ratePerSecond: 1, burst: 1 }, manualClock());
    expect(admission.admit('a').admitted).toBe(false);
    admission.connected('a');
    admission.connected('a');
    expect(admission.peerCount()).toBe(1);
    admission.disconnected('a');
    expect(admission.peerCount()).toBe(1);
    admission.disconnected('a');
    expect(admission.peerCount()).toBe(0);
    expect(admission.admit('a').admitted).toBe(false);
  });

  it("admits a peer's receipt and void calls in their own lane: its flood of other calls, at its rate and in flight, starves none of them", () => {
    const admission = createPeerAdmission({ maxInflight: 2, ratePerSecond: 1, burst: 3 }, manualClock());
    admission.connected('a');
    // Two calls held in flight, a third finished: the calls lane has neither room nor tokens left.
    const held = [admission.admit('a'), admission.admit('a')];
    expect(held.map((r) => r.admitted)).toEqual([true, true]);
    for (const r of held) if (r.admitted) r.release();
    const third = admission.admit('a');
    if (third.admitted) third.release();
    expect(admission.admit('a')).toMatchObject({ admitted: false, reason: expect.stringMatching(/peer exceeded 1 calls\/s/) });
    // The ledger lane has its own, LEDGER_LANE_LIMITS, untouched.
    const ledger = Array.from({ length: LEDGER_LANE_LIMITS.maxInflight }, () => admission.admit('a', 'ledger'));
    expect(ledger.every((r) => r.admitted)).toBe(true);
    expect(admission.admit('a', 'ledger')).toMatchObject({
      admitted: false,
      reason: `peer has ${LEDGER_LANE_LIMITS.maxInflight} receipt and void calls in flight (limit ${LEDGER_LANE_LIMITS.maxInflight} per peer)`,
    });
    for (const r of ledger) if (r.admitted) r.release();
    const taken = (n: number) => {
      let admitted = 0;
      for (let i = 0; i < n; i++) {
        const r = admission.admit('a', 'ledger');
        if (r.admitted) {
          admitted += 1;
          r.release();
        }
      }
      return admitted;
    };
    // Its bucket: the burst less the four above, then refusals naming its own rate.
    expect(taken(LEDGER_LANE_LIMITS.burst)).toBe(LEDGER_LANE_LIMITS.burst - LEDGER_LANE_LIMITS.maxInflight);
    expect(admission.admit('a', 'ledger')).toMatchObject({
      admitted: false,
      reason: expect.stringMatching(`peer exceeded ${LEDGER_LANE_LIMITS.ratePerSecond} receipt and void calls/s`),
    });
  });
});
