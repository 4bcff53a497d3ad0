import { manualClock } from '@swarm/determinism';
import { createChargeGate } from './charge-gate';

describe('pipeline - charge gate', () => {
  it('holds a refused account for holdMs, and keeps at most maxAccounts held, letting the longest held go first', () => {
    const clock = manualClock(0);
    const gate = createChargeGate(clock, 1_000, 2);
    expect(gate.allows('a')).toBe(true);
    gate.refused('a');
    clock.advance(10);
    gate.refused('b');
    expect([gate.allows('a'), gate.allows('b')]).toEqual([false, false]);
    // A third held account pushes out the one held longest.
    gate.refused('c');
    expect([gate.allows('a'), gate.allows('b'), gate.allows('c')]).toEqual([true, false, false]);
    // Refused again: held anew, from now.
    clock.advance(995);
    gate.refused('b');
    clock.advance(10);
    expect([gate.allows('b'), gate.allows('c')]).toEqual([false, true]);
  });
});
