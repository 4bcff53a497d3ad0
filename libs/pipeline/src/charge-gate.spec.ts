import { manualClock } from '@swarm/determinism';
import fc from 'fast-check';
import { createChargeGate } from './charge-gate';

describe('pipeline - charge gate', () => {
  it('lets an account one folded run in flight at first, one more after each paid charge, up to maxWindow', () => {
    const gate = createChargeGate(manualClock(0), { maxWindow: 3 });
    expect([gate.begin('a'), gate.begin('a')]).toEqual([true, false]);
    gate.end('a', 'paid');
    expect([gate.begin('a'), gate.begin('a'), gate.begin('a')]).toEqual([true, true, false]);
    gate.end('a', 'paid');
    gate.end('a', 'paid');
    expect([gate.begin('a'), gate.begin('a'), gate.begin('a'), gate.begin('a')]).toEqual([true, true, true, false]);
    // Another account has its own window.
    expect(gate.begin('b')).toBe(true);
  });

  it('holds an account to the escrow path for holdMs after an unpaid run, then starts it again at one', () => {
    const clock = manualClock(0);
    const gate = createChargeGate(clock, { holdMs: 1_000 });
    gate.begin('a');
    gate.end('a', 'paid');
    gate.begin('a');
    gate.begin('a');
    gate.end('a', 'unpaid');
    expect(gate.begin('a')).toBe(false);
    // The run still in flight ends too: the hold stands.
    gate.end('a', 'not-run');
    clock.advance(999);
    expect(gate.begin('a')).toBe(false);
    clock.advance(1);
    expect([gate.begin('a'), gate.begin('a')]).toEqual([true, false]);
  });

  it('forgets the account touched longest ago with nothing in flight once past maxAccounts', () => {
    const gate = createChargeGate(manualClock(0), { maxAccounts: 2 });
    gate.begin('busy');
    gate.begin('x');
    gate.end('x', 'unpaid');
    gate.begin('y');
    // 'x' (held, nothing in flight) was forgotten to make room, 'busy' (a run in flight) was not.
    expect(gate.begin('x')).toBe(true);
    expect(gate.begin('busy')).toBe(false);
  });

  it('never lets an account have more unpaid runs than one more than its paid ones, plus one per hold', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('begin', 'paid', 'unpaid', 'wait'), { maxLength: 200 }), (steps) => {
        const clock = manualClock(0);
        const gate = createChargeGate(clock, { holdMs: 100, maxWindow: 8 });
        // The account pays while it has credit, then never again: every run after that is unpaid.
        let inFlight = 0;
        let paid = 0;
        let unpaid = 0;
        let broke = false;
        let holdsStarted = 0;
        for (const step of steps) {
          if (step === 'begin') {
            if (gate.begin('a')) inFlight += 1;
          } else if (step === 'wait') clock.advance(60);
          else if (inFlight > 0) {
            inFlight -= 1;
            broke ||= step === 'unpaid';
            if (broke) {
              unpaid += 1;
              holdsStarted += 1;
              gate.end('a', 'unpaid');
            } else {
              paid += 1;
              gate.end('a', 'paid');
            }
          }
        }
        const holds = 1 + Math.floor(clock.now() / 100);
        expect(unpaid + inFlight).toBeLessThanOrEqual(Math.min(paid + 1, 8) + holds);
        expect(holdsStarted).toBe(unpaid);
      }),
      { numRuns: 300 },
    );
  });
});
