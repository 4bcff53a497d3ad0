import { virtualTime } from '@swarm/determinism';
import type { ResolverLimits } from './bounded-resolver';
import { createBoundedResolver, DEFAULT_RESOLVER_LIMITS } from './bounded-resolver';

/** A system resolver the test answers by hand: each lookup waits until the test settles it. */
function handResolver() {
  const calls: { host: string; answer: (addresses: string[]) => void; fail: (why: string) => void }[] = [];
  const resolve = (host: string) =>
    new Promise<string[]>((answer, reject) => {
      calls.push({ host, answer, fail: (why) => reject(new Error(why)) });
    });
  return { resolve, calls, hosts: () => calls.map((c) => c.host) };
}

const LIMITS: ResolverLimits = { ...DEFAULT_RESOLVER_LIMITS, maxInFlight: 2, maxQueued: 2, waitMs: 3_000, freshMs: 5_000, staleMs: 60_000, failureMs: 10_000, maxNames: 64 };

function setUp(limits: Partial<ResolverLimits> = {}) {
  const time = virtualTime();
  const dns = handResolver();
  const resolve = createBoundedResolver(dns.resolve, time, { ...LIMITS, ...limits });
  return { time, dns, resolve };
}

/** What a promise came to, without waiting: its value, its error's message, or 'pending'. */
async function outcome<T>(p: Promise<T>): Promise<T | string> {
  const pending = Symbol('pending');
  const settled = await Promise.race([p.catch((err: Error) => `error: ${err.message}`), new Promise<symbol>((r) => setImmediate(() => r(pending)))]);
  return settled === pending ? 'pending' : (settled as T | string);
}

describe('createBoundedResolver: DNS lookups of names peers chose, bounded', () => {
  it('looks a name up once for everyone who asks meanwhile, and reuses the answer while fresh', async () => {
    const { time, dns, resolve } = setUp();
    const asked = [resolve('a.example'), resolve('a.example'), resolve('a.example')];
    await outcome(asked[0]);
    expect(dns.hosts()).toEqual(['a.example']);
    dns.calls[0].answer(['192.0.2.1']);
    expect(await Promise.all(asked)).toEqual([['192.0.2.1'], ['192.0.2.1'], ['192.0.2.1']]);
    await time.advance(4_000);
    expect(await resolve('a.example')).toEqual(['192.0.2.1']);
    expect(dns.hosts()).toEqual(['a.example']);
  });

  it('runs at most maxInFlight lookups, counted until the system resolver answers (not until a caller gives up)', async () => {
    const { time, dns, resolve } = setUp();
    const slow1 = resolve('slow1.example');
    const slow2 = resolve('slow2.example');
    const honest = resolve('honest.example');
    await outcome(honest);
    expect(dns.hosts()).toEqual(['slow1.example', 'slow2.example']);
    await time.advance(3_000);
    // Every caller gave up; the two threads are still held, so the queued name is not looked up.
    expect(await outcome(slow1)).toBe('error: the lookup of slow1.example took over 3000 ms');
    expect(await outcome(slow2)).toBe('error: the lookup of slow2.example took over 3000 ms');
    expect(await outcome(honest)).toBe('error: no turn to look up honest.example within 3000 ms');
    expect(dns.hosts()).toEqual(['slow1.example', 'slow2.example']);
    // A turn frees when the system resolver answers at last: the next name someone waits for gets it.
    const again = resolve('honest.example');
    dns.calls[0].fail('getaddrinfo EAI_AGAIN slow1.example');
    await outcome(again);
    expect(dns.hosts()).toEqual(['slow1.example', 'slow2.example', 'honest.example']);
    dns.calls[2].answer(['192.0.2.7']);
    expect(await again).toEqual(['192.0.2.7']);
  });

  it('does not look up a queued name nobody waits for any more', async () => {
    const { time, dns, resolve } = setUp();
    void resolve('slow1.example').catch(() => undefined);
    void resolve('slow2.example').catch(() => undefined);
    const given = resolve('gone.example');
    await time.advance(3_000);
    expect(await outcome(given)).toBe('error: no turn to look up gone.example within 3000 ms');
    const waiting = resolve('wanted.example');
    dns.calls[0].answer(['192.0.2.1']);
    await outcome(waiting);
    expect(dns.hosts()).toEqual(['slow1.example', 'slow2.example', 'wanted.example']);
  });

  it('refuses a new name at once when maxQueued wait for a turn already', async () => {
    const { dns, resolve } = setUp();
    for (const host of ['s1.example', 's2.example', 'q1.example', 'q2.example']) void resolve(host).catch(() => undefined);
    await expect(resolve('q3.example')).rejects.toThrow('too many names are being looked up; q3.example was not');
    expect(dns.hosts()).toEqual(['s1.example', 's2.example']);
  });

  it('keeps a name whose lookup failed or was slow from being asked again for failureMs after it ends', async () => {
    const { time, dns, resolve } = setUp({ maxInFlight: 8 });
    const first = resolve('bad.example');
    await outcome(first);
    dns.calls[0].fail('getaddrinfo ENOTFOUND bad.example');
    await expect(first).rejects.toThrow('the lookup of bad.example failed (getaddrinfo ENOTFOUND bad.example)');
    await time.advance(9_999);
    await expect(resolve('bad.example')).rejects.toThrow('the lookup of bad.example failed lately (getaddrinfo ENOTFOUND bad.example)');
    expect(dns.hosts()).toEqual(['bad.example']);
    await time.advance(1);
    void resolve('bad.example').catch(() => undefined);
    expect(dns.hosts()).toEqual(['bad.example', 'bad.example']);

    // A name that answers only after a caller's wait is read as failed too: asked again, it would hold a thread as long.
    const slow = resolve('slow.example');
    await time.advance(3_000);
    await expect(slow).rejects.toThrow('took over 3000 ms');
    // Asked while its lookup still runs: no second wait of 3 s.
    await expect(resolve('slow.example')).rejects.toThrow('the lookup of slow.example is taking over 3000 ms');
    await time.advance(1_000);
    dns.calls[2].answer(['192.0.2.9']);
    await outcome(resolve('other.example'));
    // Its late answer is used while fresh, then stale, without a new lookup until failureMs after it came.
    expect(await resolve('slow.example')).toEqual(['192.0.2.9']);
    await time.advance(9_999);
    expect(await resolve('slow.example')).toEqual(['192.0.2.9']);
    expect(dns.hosts().filter((h) => h === 'slow.example')).toHaveLength(1);
    await time.advance(1);
    expect(await resolve('slow.example')).toEqual(['192.0.2.9']);
    expect(dns.hosts().filter((h) => h === 'slow.example')).toHaveLength(2);
  });

  it('answers with the last answer, up to staleMs old, while a new lookup runs behind it or fails', async () => {
    const { time, dns, resolve } = setUp({ maxInFlight: 8 });
    const first = resolve('peer.example');
    await outcome(first);
    dns.calls[0].answer(['192.0.2.1']);
    await first;
    await time.advance(5_001);
    // Stale: answered at once, and looked up again behind it.
    expect(await resolve('peer.example')).toEqual(['192.0.2.1']);
    expect(dns.hosts()).toEqual(['peer.example', 'peer.example']);
    dns.calls[1].answer(['192.0.2.2']);
    await outcome(resolve('x.example'));
    expect(await resolve('peer.example')).toEqual(['192.0.2.2']);
    // The next refresh fails: the last answer is still used, without another lookup, until staleMs.
    await time.advance(5_001);
    expect(await resolve('peer.example')).toEqual(['192.0.2.2']);
    dns.calls.find((c, i) => i > 1 && c.host === 'peer.example')?.fail('getaddrinfo EAI_AGAIN peer.example');
    await outcome(resolve('y.example'));
    const lookups = dns.hosts().filter((h) => h === 'peer.example').length;
    expect(await resolve('peer.example')).toEqual(['192.0.2.2']);
    expect(dns.hosts().filter((h) => h === 'peer.example')).toHaveLength(lookups);
    await time.advance(60_000);
    const late = resolve('peer.example');
    expect(await outcome(late)).toBe('pending');
    expect(dns.hosts().filter((h) => h === 'peer.example')).toHaveLength(lookups + 1);
  });

  it('forgets the least recently asked names past maxNames, never one being looked up', async () => {
    const { time, dns, resolve } = setUp({ maxNames: 3, maxInFlight: 2, maxQueued: 0 });
    const running = resolve('running.example');
    for (const host of ['a.example', 'b.example', 'c.example']) {
      const p = resolve(host);
      await outcome(p);
      dns.calls.find((c) => c.host === host)?.answer(['192.0.2.1']);
      await p;
    }
    await time.advance(1);
    await outcome(resolve('c.example'));
    expect(dns.hosts().filter((h) => h === 'c.example')).toHaveLength(1);
    void resolve('a.example').catch(() => undefined);
    expect(dns.hosts().filter((h) => h === 'a.example')).toHaveLength(2);
    dns.calls[0].answer(['192.0.2.5']);
    expect(await running).toEqual(['192.0.2.5']);
  });

  it('quotes at most 64 characters of a name, and takes a resolver that throws at once', async () => {
    const time = virtualTime();
    const resolve = createBoundedResolver(
      () => {
        throw new Error('bad name');
      },
      time,
      LIMITS,
    );
    const long = `${'x'.repeat(300)}.example`;
    const err = (await resolve(long).catch((e: Error) => e)) as Error;
    expect(err.message).toBe(`the lookup of ${'x'.repeat(64)} failed (bad name)`);
  });

  it('refuses limits that are not numbers >= 0, and a maxInFlight of 0', () => {
    const time = virtualTime();
    const resolve = async () => [];
    expect(() => createBoundedResolver(resolve, time, { ...LIMITS, waitMs: Number.NaN })).toThrow('resolver limit waitMs must be a finite number >= 0, got NaN');
    expect(() => createBoundedResolver(resolve, time, { ...LIMITS, maxQueued: -1 })).toThrow('maxQueued');
    expect(() => createBoundedResolver(resolve, time, { ...LIMITS, maxInFlight: 0 })).toThrow('resolver limit maxInFlight must be >= 1, got 0');
  });
});
