import { virtualTime } from '@swarm/determinism';
import { createBoundedResolver, DEFAULT_RESOLVER_LIMITS } from './bounded-resolver';

const flush = () => new Promise<void>((r) => setImmediate(r));
const swallow = (p: Promise<unknown>) => void p.catch(() => undefined);

function setUp() {
  const time = virtualTime();
  const asked: string[] = [];
  const held: ((e: Error) => void)[] = [];
  const dns = (host: string) => {
    asked.push(host);
    if (host.startsWith('held')) return new Promise<string[]>((_, fail) => void held.push(fail));
    if (host.startsWith('bad')) return Promise.reject(new Error('ENOTFOUND'));
    return Promise.resolve(['192.0.2.1']);
  };
  const resolve = createBoundedResolver(dns, time, { ...DEFAULT_RESOLVER_LIMITS, maxInFlight: 1, maxQueued: 2, maxNames: 8, staleMs: 60_000 });
  const hold = async () => {
    for (const host of ['held1', 'held2', 'held3']) swallow(resolve(host));
    await flush();
  };
  const release = async () => {
    while (held.length > 0) {
      held.shift()!(new Error('EAI_AGAIN'));
      await flush();
    }
  };
  return { time, asked, resolve, hold, release };
}

describe('bounded resolver - kept answers and refused names (helper-175)', () => {
  it('frees the keep slot of a kept name it forgets (an expired answer refused a turn): later keeps are not let go early', async () => {
    const { time, asked, resolve, hold, release } = setUp(); // maxNames 8: 2 kept at most
    await resolve('k1');
    resolve.keep('k1', 'node-k1');
    await time.advance(61_000); // k1's answer is past staleMs
    await hold();
    await expect(resolve('k1')).rejects.toThrow('too many names'); // refused: k1 (kept) forgotten
    await release();
    for (const host of ['k2', 'k3']) {
      await resolve(host);
      resolve.keep(host, `node-${host}`);
    }
    for (let i = 0; i < 8; i++) await resolve(`s${i}`);
    asked.length = 0;
    await resolve('k2');
    await resolve('k3');
    expect(asked).toEqual([]);
  });

  it("does not let names refused a turn push out a name's failure (it would be looked up again at once)", async () => {
    const { asked, resolve, hold } = setUp();
    await expect(resolve('bad')).rejects.toThrow('failed');
    // Four answers and three held names fill the eight remembered: a refused name remembered would push out 'bad' first.
    for (const host of ['a1', 'a2', 'a3', 'a4']) await resolve(host);
    await hold();
    for (let i = 0; i < 16; i++) await resolve(`r${i}`).catch(() => undefined);
    await expect(resolve('bad')).rejects.toThrow('failed lately');
    expect(asked.filter((h) => h === 'bad')).toHaveLength(1);
  });
});
