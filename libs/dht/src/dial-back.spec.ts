import { manualClock } from '@swarm/determinism';
import { createDialBack, DEFAULT_DIAL_BACK_LIMITS } from './dial-back';

describe('dial-back - a share per network', () => {
  it('lets claims from one network hold at most maxInFlightPerNetwork dial-backs, leaving the rest to others', () => {
    const dialled: string[] = [];
    // Tarpits: no dial-back ever ends.
    const dialBack = createDialBack((_id, endpoint) => (dialled.push(endpoint), new Promise<boolean>(() => undefined)), manualClock(0));
    const { maxInFlight, maxInFlightPerNetwork } = DEFAULT_DIAL_BACK_LIMITS;
    for (let i = 0; i < 20; i++) dialBack.claim('a'.repeat(40), `tarpit-${i}`, '203.0.113.0/24', () => undefined);
    expect(dialled).toHaveLength(maxInFlightPerNetwork);
    // A newcomer from elsewhere still gets dialled, up to the slots left.
    for (let i = 0; i < 20; i++) dialBack.claim('b'.repeat(40), `newcomer-${i}`, `198.51.${i}.0/24`, () => undefined);
    expect(dialled).toHaveLength(maxInFlight);
    expect(dialled.filter((e) => e.startsWith('newcomer-'))).toHaveLength(maxInFlight - maxInFlightPerNetwork);
    expect(dialBack.counts().dropped).toBe(40 - maxInFlight);
  });

  it('frees a network its share once a dial-back ends, and counts no share for a claim whose transport names no network', async () => {
    const ends: Array<(answered: boolean) => void> = [];
    const dialBack = createDialBack((_id, _endpoint) => new Promise<boolean>((resolve) => ends.push(resolve)), manualClock(0), {
      ...DEFAULT_DIAL_BACK_LIMITS,
      maxInFlightPerNetwork: 1,
    });
    dialBack.claim('a'.repeat(40), 'one', '203.0.113.0/24', () => undefined);
    dialBack.claim('a'.repeat(40), 'two', '203.0.113.0/24', () => undefined);
    expect(ends).toHaveLength(1);
    ends[0](false);
    await new Promise((resolve) => setImmediate(resolve));
    dialBack.claim('a'.repeat(40), 'three', '203.0.113.0/24', () => undefined);
    expect(ends).toHaveLength(2);
    for (const e of ['m1', 'm2', 'm3']) dialBack.claim('a'.repeat(40), e, undefined, () => undefined);
    expect(ends).toHaveLength(5);
  });
});
