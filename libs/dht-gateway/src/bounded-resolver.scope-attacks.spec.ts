import { virtualTime } from '@swarm/determinism';
import { createBoundedResolver, DEFAULT_RESOLVER_LIMITS } from './bounded-resolver';

const flush = () => new Promise<void>((r) => setImmediate(r));
const swallow = (p: Promise<unknown>) => void p.catch(() => undefined);

describe("createBoundedResolver: a known peer's answer against answered strangers' names (helper-174)", () => {
  it("keeps an answer that reached its peer through 1,024 strangers' names that answer (a wildcard zone answering 0.0.0.0), so strangers' slow names then cannot shut it out", async () => {
    const time = virtualTime();
    const pending: { host: string; answer: (a: string[]) => void; fail: (e: Error) => void }[] = [];
    const dns = (host: string) => new Promise<string[]>((answer, fail) => void pending.push({ host, answer, fail }));
    const resolve = createBoundedResolver(dns, time, DEFAULT_RESOLVER_LIMITS); // 2 running, 64 queued, 1,024 names
    const first = resolve('peer.example');
    await flush();
    pending.shift()!.answer(['192.0.2.1']);
    expect(await first).toEqual(['192.0.2.1']);
    resolve.keep('peer.example', 'node-peer'); // a dial at it reached its peer (gateway-svc's pool says so)
    // A minute of the attacker's records: 1,024 names of its wildcard zone, each answered at once
    // (an answer no node dials: 0.0.0.0), unlike helper-173's NXDOMAINs.
    for (let i = 0; i < 1_024; i++) {
      const p = resolve(`w${i}.evil.example`);
      await flush();
      pending.shift()!.answer(['0.0.0.0']);
      await p;
    }
    // Then names that never resolve hold both turns and the queue.
    for (let i = 0; i < 2 + 64; i++) swallow(resolve(`held${i}.evil.example`));
    await time.advance(6_000);
    // docs/swarm.md: "peers known by name are still dialled while strangers' slow names hold every turn".
    expect(await resolve('peer.example').catch((e: Error) => e.message)).toEqual(['192.0.2.1']);
  });
});

describe('createBoundedResolver: kept answers', () => {
  it('keeps at most a quarter of maxNames, the least recently asked let go first, and only a name with an answer', async () => {
    const time = virtualTime();
    const asked: string[] = [];
    const dns = async (host: string) => (asked.push(host), host.startsWith('none') ? Promise.reject(new Error('ENOTFOUND')) : ['192.0.2.1']);
    const resolve = createBoundedResolver(dns, time, { ...DEFAULT_RESOLVER_LIMITS, maxInFlight: 1, maxQueued: 2, maxNames: 8 });
    for (const host of ['k1', 'k2', 'k3']) {
      await resolve(host);
      resolve.keep(host, `node-${host}`);
    }
    await resolve('none').catch(() => undefined);
    resolve.keep('none', 'node-none'); // no answer: nothing to keep
    // Two of 8 kept at most: k1 was let go when k3 was kept. Eight strangers' names push out all the rest.
    for (let i = 0; i < 8; i++) await resolve(`s${i}`);
    asked.length = 0;
    expect([await resolve('k2'), await resolve('k3'), await resolve('k1')]).toEqual([['192.0.2.1'], ['192.0.2.1'], ['192.0.2.1']]);
    expect(asked).toEqual(['k1']);
  });
});

describe('createBoundedResolver: one kept name for each peer that reached it (helper-175)', () => {
  const setUp = () => {
    const time = virtualTime();
    const asked: string[] = [];
    const dns = async (host: string) => (asked.push(host), ['192.0.2.1']);
    // 8 names remembered, 2 kept at most.
    const resolve = createBoundedResolver(dns, time, { ...DEFAULT_RESOLVER_LIMITS, maxInFlight: 1, maxQueued: 2, maxNames: 8 });
    const strangers = async () => {
      for (let i = 0; i < 8; i++) await resolve(`s${i}.evil.example`);
    };
    return { asked, resolve, strangers };
  };

  it("does not let one node reached at many wildcard names take every kept slot: an honest peer's name outlasts them", async () => {
    const { asked, resolve, strangers } = setUp();
    await resolve('peer.example');
    resolve.keep('peer.example', 'honest');
    // The attacker's node, reached at a new name of its wildcard zone each time (its records name them).
    for (let i = 0; i < 256; i++) {
      await resolve(`w${i}.evil.example`);
      resolve.keep(`w${i}.evil.example`, 'attacker');
    }
    await strangers();
    asked.length = 0;
    await resolve('peer.example');
    await resolve('w255.evil.example');
    expect(asked).toEqual([]); // both still kept: the honest peer's name, and the attacker's last one only
    await resolve('w254.evil.example');
    expect(asked).toEqual(['w254.evil.example']);
  });

  it('keeps a name two peers reached while either still holds it, and lets it go when neither does', async () => {
    const { asked, resolve, strangers } = setUp();
    await resolve('shared.example');
    resolve.keep('shared.example', 'a');
    resolve.keep('shared.example', 'b');
    await resolve('a-moved.example');
    resolve.keep('a-moved.example', 'a'); // a moved: b still holds shared.example
    await strangers();
    asked.length = 0;
    await resolve('shared.example');
    expect(asked).toEqual([]);
    await resolve('b-moved.example');
    resolve.keep('b-moved.example', 'b'); // now neither holds it
    await strangers();
    asked.length = 0;
    await resolve('shared.example');
    expect(asked).toEqual(['shared.example']);
  });
});
