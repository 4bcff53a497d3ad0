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

describe('dial-back - a rate per host', () => {
  const hostOf = (endpoint: string) => endpoint.split(':')[0];

  it("starts at most maxPerHostPerSecond dial-backs a second to one host, whatever ports are claimed, and others' at the full rate", async () => {
    const dialled: string[] = [];
    const clock = manualClock(0);
    const dialBack = createDialBack((_id, endpoint) => (dialled.push(endpoint), Promise.resolve(false)), clock, DEFAULT_DIAL_BACK_LIMITS, hostOf);
    const { maxPerHostPerSecond } = DEFAULT_DIAL_BACK_LIMITS;
    // A victim's every port, claimed by many callers on many networks.
    for (let port = 1; port <= 50; port++) dialBack.claim('a'.repeat(40), `victim:${port}`, `198.51.${port}.0/24`, () => undefined);
    expect(dialled).toHaveLength(maxPerHostPerSecond);
    // Other hosts are not held back by it.
    for (let i = 0; i < 4; i++) dialBack.claim('b'.repeat(40), `host-${i}:7400`, `203.0.${i}.0/24`, () => undefined);
    expect(dialled.filter((e) => e.startsWith('host-'))).toHaveLength(4);
    await new Promise((resolve) => setImmediate(resolve));
    // A second later the victim's host has its allowance again, no more.
    clock.advance(1_000);
    for (let port = 51; port <= 100; port++) dialBack.claim('a'.repeat(40), `victim:${port}`, `198.51.${port % 200}.0/24`, () => undefined);
    expect(dialled.filter((e) => e.startsWith('victim:'))).toHaveLength(2 * maxPerHostPerSecond);
  });

  it('is not shut out for as long as the wall clock went back (an NTP step, a resumed VM): a host has its rate again a second later', async () => {
    const dialled: string[] = [];
    const clock = manualClock(1_800_000_000_000);
    const dialBack = createDialBack((_id, endpoint) => (dialled.push(endpoint), Promise.resolve(false)), clock, DEFAULT_DIAL_BACK_LIMITS, hostOf);
    const { maxPerHostPerSecond, maxPerSecond } = DEFAULT_DIAL_BACK_LIMITS;
    for (let port = 1; port <= maxPerSecond; port++) dialBack.claim('a'.repeat(40), `${port <= 10 ? 'victim' : `host-${port}`}:${port}`, `198.51.${port}.0/24`, () => undefined);
    expect(dialled.filter((e) => e.startsWith('victim:'))).toHaveLength(maxPerHostPerSecond);
    await new Promise((resolve) => setImmediate(resolve));
    clock.set(1_800_000_000_000 - 3_600_000);
    // Seen back an hour: nothing refilled yet, and no hour owed either.
    dialBack.claim('a'.repeat(40), 'victim:100', '203.0.99.0/24', () => undefined);
    clock.advance(1_000);
    for (let port = 101; port <= 110; port++) dialBack.claim('a'.repeat(40), `victim:${port}`, `203.0.${port}.0/24`, () => undefined);
    expect(dialled.filter((e) => e.startsWith('victim:'))).toHaveLength(2 * maxPerHostPerSecond);
  });

  it('cools a failed endpoint down for failureCooldownMs from when a wall clock set back is seen, not for as long as it went back (helper-172)', async () => {
    const dialled: string[] = [];
    const clock = manualClock(1_800_000_000_000);
    const dialBack = createDialBack((_id, endpoint) => (dialled.push(endpoint), Promise.resolve(false)), clock);
    dialBack.claim('a'.repeat(40), 'peer:7000', '198.51.100.0/24', () => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    clock.set(1_800_000_000_000 - 3_600_000);
    dialBack.claim('a'.repeat(40), 'peer:7000', '198.51.100.0/24', () => undefined); // within its cooldown, as seen now
    clock.advance(DEFAULT_DIAL_BACK_LIMITS.failureCooldownMs);
    dialBack.claim('a'.repeat(40), 'peer:7000', '198.51.100.0/24', () => undefined);
    expect(dialled).toEqual(['peer:7000', 'peer:7000']);
  });

  it('takes no global allowance for a claim its host refuses, and limits nothing the transport names no host for', () => {
    const dialled: string[] = [];
    const dialBack = createDialBack(
      (_id, endpoint) => (dialled.push(endpoint), new Promise<boolean>(() => undefined)),
      manualClock(0),
      {
        ...DEFAULT_DIAL_BACK_LIMITS,
        maxInFlight: 100,
        maxInFlightPerNetwork: 100,
        maxPerSecond: 5,
      },
      (endpoint) => (endpoint.startsWith('local') ? undefined : hostOf(endpoint)),
    );
    // 30 claims of one host: 2 dialled, the rest refused before they spend the node's 5 a second.
    for (let port = 1; port <= 30; port++) dialBack.claim('a'.repeat(40), `victim:${port}`, undefined, () => undefined);
    for (let port = 1; port <= 3; port++) dialBack.claim('a'.repeat(40), `local:${port}`, undefined, () => undefined);
    expect(dialled).toEqual(['victim:1', 'victim:2', 'local:1', 'local:2', 'local:3']);
  });
});

describe('dial-back - hosts remembered', () => {
  it('remembers at most maxRemembered hosts, by their last dial-back (a claim dropped touches none), the least recent forgotten first with its full rate again', async () => {
    const dialled: string[] = [];
    const dialBack = createDialBack(
      (_id, endpoint) => (dialled.push(endpoint), Promise.resolve(false)),
      manualClock(0),
      { ...DEFAULT_DIAL_BACK_LIMITS, maxRemembered: 2, maxPerHostPerSecond: 1 },
      (endpoint) => endpoint.split(':')[0],
    );
    const claim = async (endpoint: string) => {
      dialBack.claim('a'.repeat(40), endpoint, undefined, () => undefined);
      await new Promise((resolve) => setImmediate(resolve));
    };
    await claim('h1:1');
    await claim('h1:2'); // h1's rate used up: dropped
    await claim('h2:1');
    await claim('h1:1'); // cooling down after its failure: dropped, and h1 stays the least recent
    await claim('h3:1'); // forgets h1
    await claim('h2:2'); // h2 remembered, its rate used up: dropped
    await claim('h1:2'); // h1 forgotten: its full rate again
    expect(dialled).toEqual(['h1:1', 'h2:1', 'h3:1', 'h1:2']);
  });
});
