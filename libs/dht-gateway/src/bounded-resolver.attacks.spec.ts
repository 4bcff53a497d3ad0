import { virtualTime } from '@swarm/determinism';
import type { ResolverLimits } from './bounded-resolver';
import { createBoundedResolver, DEFAULT_RESOLVER_LIMITS } from './bounded-resolver';

/** A system resolver the test answers by hand: each lookup waits until the test settles it. */
function handResolver() {
  const calls: { host: string; answer: (addresses: string[]) => void; fail: (why: string) => void; settled: boolean }[] = [];
  const resolve = (host: string) =>
    new Promise<string[]>((answer, reject) => {
      const call = {
        host,
        settled: false,
        answer: (a: string[]) => {
          call.settled = true;
          answer(a);
        },
        fail: (why: string) => {
          call.settled = true;
          reject(new Error(why));
        },
      };
      calls.push(call);
    });
  const running = () => calls.filter((c) => !c.settled);
  return { resolve, calls, running, hosts: () => calls.map((c) => c.host) };
}

function setUp(limits: Partial<ResolverLimits> = {}) {
  const time = virtualTime();
  const dns = handResolver();
  const resolve = createBoundedResolver(dns.resolve, time, { ...DEFAULT_RESOLVER_LIMITS, ...limits });
  return { time, dns, resolve };
}

/** What a promise came to, without waiting: its value, its error's message, or 'pending'. */
async function outcome<T>(p: Promise<T>): Promise<T | string> {
  const pending = Symbol('pending');
  const settled = await Promise.race([p.catch((err: Error) => `error: ${err.message}`), new Promise<symbol>((r) => setImmediate(() => r(pending)))]);
  return settled === pending ? 'pending (forgotten: a new lookup of its own)' : (settled as T | string);
}

const flush = () => new Promise<void>((r) => setImmediate(r));
const swallow = (p: Promise<unknown>) => void p.catch(() => undefined);

/**
 * helper-173's attacks on the bounded resolver (bounded-resolver.ts): an attacker who can make a node
 * look up names it chooses (records, task endpoints, DHT claims) tries to keep a known peer's old
 * address served, push known peers' answers out, or fill memory.
 */
describe('createBoundedResolver under attack (helper-173)', () => {
  it("runs a stale answer's refresh queued behind strangers' slow names at the first freed turn (it was dropped: the old address for all 10 minutes)", async () => {
    // Default limits (2 running, 64 queued, 3 s wait, 5 s fresh, 10 min stale).
    const { time, dns, resolve } = setUp();
    const first = resolve('peer.example');
    await flush();
    dns.calls[0].answer(['192.0.2.1']);
    expect(await first).toEqual(['192.0.2.1']);
    // The honest peer moves to 192.0.2.2 now. An attacker keeps both turns busy with names whose
    // lookups take 20 s each (a resolver timing out), always having its next name asked.
    let attackerNames = 0;
    const attack = () => swallow(resolve(`a${attackerNames++}.evil.example`));
    attack();
    attack();
    await flush();
    let oldAnswers = 0;
    let newAt: number | undefined;
    let lastAnswer: unknown;
    for (let t = 1; t <= 600; t++) {
      await time.advance(1_000);
      // The attacker re-asks the next name it wants run every 2 s, so one of its names always has a waiter in the queue.
      if (t % 2 === 0) attack();
      // Its running lookups end 20 s after they started (a resolver giving up).
      if (t % 20 === 0) for (const c of dns.running().filter((c) => c.host.endsWith('.evil.example'))) c.fail('getaddrinfo EAI_AGAIN');
      // The honest peer's dials keep asking its name.
      const r = await resolve('peer.example').catch((e: Error) => e.message);
      if (Array.isArray(r) && r[0] === '192.0.2.1') oldAnswers += 1;
      if (Array.isArray(r) && r[0] === '192.0.2.2') newAt ??= t;
      lastAnswer = r;
      for (const c of dns.running().filter((c) => c.host === 'peer.example')) c.answer(['192.0.2.2']);
      await flush();
    }
    // Turns freed 60 times (every 20 s); the refresh asked for at t=6 s was first in the queue.
    const seen = { peerLookups: dns.hosts().filter((h) => h === 'peer.example').length, oldAnswers, newAt, lastAnswer };
    // The refresh should have had the first freed turn (t = 20 s): old address at most ~20 times.
    // Unfixed: 1 lookup of peer.example in 600 s, the old address all 600 times. With the refresh run at its turn: refreshed at t = 21 s.
    expect({ ...seen, refreshedByFirstFreedTurn: newAt !== undefined && newAt <= 21 }).toEqual({ ...seen, refreshedByFirstFreedTurn: true, lastAnswer: ['192.0.2.2'] });
  }, 60_000);

  it("runs a stale answer's refresh when a turn frees though nobody waits for it (the turn stayed idle)", async () => {
    const { time, dns, resolve } = setUp({ maxInFlight: 1 });
    const first = resolve('peer.example');
    await flush();
    dns.calls[0].answer(['192.0.2.1']);
    await first;
    const slow = resolve('slow.evil.example');
    swallow(slow);
    await time.advance(6_000);
    // Stale: answered at once, a refresh queued behind the running lookup.
    expect(await resolve('peer.example')).toEqual(['192.0.2.1']);
    dns.calls[1].fail('getaddrinfo EAI_AGAIN');
    await flush();
    await flush();
    // The turn is free and the refresh was asked for: it should now be running.
    expect(dns.hosts()).toEqual(['peer.example', 'slow.evil.example', 'peer.example']);
  });

  it("remembers no name refused a turn: 1,024 of them cost 3 lookups and pushed a known peer's answer out", async () => {
    const { time, dns, resolve } = setUp(); // 2 running, 64 queued, 1,024 names
    const first = resolve('peer.example');
    await flush();
    dns.calls[0].answer(['192.0.2.1']);
    await first;
    // The attacker holds both turns and the whole queue with names that never resolve...
    for (let i = 0; i < 2 + 64; i++) swallow(resolve(`held${i}.evil.example`));
    // ...then names 1,024 more, each refused at once: none is looked up.
    let refused = 0;
    for (let i = 0; i < 1_024; i++) await resolve(`r${i}.evil.example`).catch(() => (refused += 1));
    expect({ refused, lookups: dns.calls.length }).toEqual({ refused: 1_024, lookups: 3 });
    await time.advance(6_000);
    // The doc: "peers known by name are still dialled while strangers' slow names hold every turn".
    expect(await resolve('peer.example').catch((e: Error) => e.message)).toEqual(['192.0.2.1']);
  });

  it("forgets names without an answer before a known peer's answer (1,024 quick NXDOMAINs pushed it out)", async () => {
    const { time, dns, resolve } = setUp({ maxInFlight: 2 });
    const first = resolve('peer.example');
    await flush();
    dns.calls[0].answer(['192.0.2.1']);
    await first;
    // 1,024 names answering NXDOMAIN quickly, two at a time (a minute of an attacker's records).
    for (let i = 0; i < 1_024; i++) {
      const p = resolve(`nx${i}.evil.example`);
      await flush();
      dns.running()[0].fail('getaddrinfo ENOTFOUND');
      await p.catch(() => undefined);
    }
    await time.advance(6_000);
    // A stale answer for a known peer is worth more than a remembered NXDOMAIN of a stranger's name.
    expect(await outcome(resolve('peer.example'))).toEqual(['192.0.2.1']);
  });

  it('refuses maxNames no larger than the names being looked up at once (0 ran two lookups of one name; 1 left a queued name never run)', () => {
    const time = virtualTime();
    const dns = handResolver();
    for (const [maxInFlight, maxQueued, maxNames] of [
      [2, 64, 0],
      [1, 4, 1],
      [2, 64, 66],
    ]) {
      expect(() => createBoundedResolver(dns.resolve, time, { ...DEFAULT_RESOLVER_LIMITS, maxInFlight, maxQueued, maxNames })).toThrow(
        `resolver limit maxNames must be more than maxInFlight + maxQueued (${maxInFlight + maxQueued}), got ${maxNames}`,
      );
    }
    expect(() => createBoundedResolver(dns.resolve, time, { ...DEFAULT_RESOLVER_LIMITS, maxInFlight: 2, maxQueued: 64, maxNames: 67 })).not.toThrow();
  });

  it("keeps at most 64 addresses of a name's answer (1,024 names of 4,000 addresses each were all kept 10 minutes, 229 MiB)", async () => {
    const time = virtualTime();
    // One 64 KB DNS answer over TCP holds ~4,000 A records; getaddrinfo returns them all.
    const big = Array.from({ length: 4_000 }, (_, i) => `198.51.${i >> 8}.${i & 255}`);
    let lookups = 0;
    const resolve = createBoundedResolver(async () => (lookups++, big), time);
    for (let i = 0; i < 1_024; i++) await resolve(`big${i}.evil.example`);
    await time.advance(60_000);
    let kept = 0;
    for (let i = 0; i < 1_024; i++) kept += (await resolve(`big${i}.evil.example`)).length;
    // Served from the cache (stale, refreshed behind): every address of every name is held.
    // Each name looked up again behind its stale answer.
    expect({ lookups, kept }).toEqual({ lookups: 2 * 1_024, kept: 1_024 * 64 });
  });
});
