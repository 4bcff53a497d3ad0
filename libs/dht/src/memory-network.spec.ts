import { ErrorCode, SwarmError } from '@swarm/contracts';
import { seededRandom, virtualTime } from '@swarm/determinism';
import type { VirtualTime } from '@swarm/determinism';
import { createMemoryNetwork } from './memory-network';
import { dhtTransportCompliance } from './transport-compliance';
import type { DhtHandlers } from './wire';

const TIMEOUT_MS = 1_000;
const ID = 'c'.repeat(40);

/** Advances virtual time until the promise settles (bounded: a hang fails the test). */
async function settleOn<T>(vt: VirtualTime, promise: Promise<T>): Promise<T> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 100 && !settled; i++) await vt.advance(TIMEOUT_MS / 4);
  return promise;
}

dhtTransportCompliance('memory network', async () => {
  const vt = virtualTime();
  const net = createMemoryNetwork({ scheduler: vt.scheduler, random: seededRandom(1), latencyMs: 5, timeoutMs: TIMEOUT_MS });
  return {
    transports: [net.transport('a'), net.transport('b'), net.transport('c')],
    ids: ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)],
    makeUnreachable: (i) => net.kill(['a', 'b', 'c'][i]),
    settle: (p) => settleOn(vt, p),
    cleanup: async () => undefined,
  };
});

function pingOnly(): DhtHandlers {
  const never = () => {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'not in this test');
  };
  return { ping: () => ({ remoteId: ID }), store: never, findNode: never, findValue: never };
}

describe('memory network - counts, latency, loss', () => {
  it('counts every request by kind, answered or not', async () => {
    const vt = virtualTime();
    const net = createMemoryNetwork({ scheduler: vt.scheduler, random: seededRandom(2), timeoutMs: TIMEOUT_MS });
    const a = net.transport('a');
    net.transport('b').listen(pingOnly());
    await settleOn(vt, a.ping('b', { id: ID }));
    await settleOn(
      vt,
      a.ping('nowhere', { id: ID }).catch(() => undefined),
    );
    expect(net.stats()).toEqual({ requests: 2, byRpc: { ping: 2, store: 0, findNode: 0, findValue: 0 }, timedOut: 1 });
    net.resetStats();
    expect(net.stats().requests).toBe(0);
  });

  it('takes two one-way latencies for a round trip', async () => {
    const vt = virtualTime();
    const net = createMemoryNetwork({ scheduler: vt.scheduler, random: seededRandom(3), latencyMs: 40, timeoutMs: TIMEOUT_MS });
    const a = net.transport('a');
    net.transport('b').listen(pingOnly());
    const start = vt.stopwatch.now();
    let answeredAt = -1;
    const done = a.ping('b', { id: ID }).then(() => (answeredAt = vt.stopwatch.now()));
    await vt.advance(79);
    expect(answeredAt).toBe(-1);
    await vt.advance(1);
    await done;
    expect(answeredAt - start).toBe(80);
  });

  it('loses about the configured share of messages', async () => {
    const vt = virtualTime();
    const net = createMemoryNetwork({ scheduler: vt.scheduler, random: seededRandom(4), lossRate: 0.2, timeoutMs: TIMEOUT_MS });
    const a = net.transport('a');
    net.transport('b').listen(pingOnly());
    const calls = Array.from({ length: 500 }, () =>
      a.ping('b', { id: ID }).then(
        () => true,
        () => false,
      ),
    );
    await vt.advance(TIMEOUT_MS);
    const answered = (await Promise.all(calls)).filter(Boolean).length;
    // Two legs each kept with p = 0.8: about 320 of 500 round trips complete.
    expect(answered).toBeGreaterThan(280);
    expect(answered).toBeLessThan(360);
    expect(net.stats().timedOut).toBe(500 - answered);
  });

  it('revives a killed node', async () => {
    const vt = virtualTime();
    const net = createMemoryNetwork({ scheduler: vt.scheduler, random: seededRandom(5), timeoutMs: TIMEOUT_MS });
    const a = net.transport('a');
    net.transport('b').listen(pingOnly());
    net.kill('b');
    expect(net.isAlive('b')).toBe(false);
    net.revive('b');
    expect(await settleOn(vt, a.ping('b', { id: ID }))).toEqual({ remoteId: ID });
  });

  it('copies every message unless copyMessages is off', async () => {
    for (const copyMessages of [undefined, false]) {
      const vt = virtualTime();
      const net = createMemoryNetwork({ scheduler: vt.scheduler, random: seededRandom(7), timeoutMs: TIMEOUT_MS, copyMessages });
      const reply = { remoteId: ID };
      let received: unknown;
      net.transport('b').listen({
        ...pingOnly(),
        ping: (_from, request) => {
          received = request;
          return reply;
        },
      });
      const request = { id: ID };
      const answer = await settleOn(vt, net.transport('a').ping('b', request));
      expect(answer).toEqual(reply);
      expect(received).toEqual(request);
      const shared = copyMessages === false;
      expect(answer === reply).toBe(shared);
      expect(received === request).toBe(shared);
    }
  });

  it('refuses bad options and a taken endpoint', () => {
    const vt = virtualTime();
    expect(() => createMemoryNetwork({ scheduler: vt.scheduler, random: seededRandom(6), lossRate: 1 })).toThrow(RangeError);
    expect(() => createMemoryNetwork({ scheduler: vt.scheduler, random: seededRandom(6), latencyMs: -1 })).toThrow(RangeError);
    const net = createMemoryNetwork({ scheduler: vt.scheduler, random: seededRandom(6) });
    net.transport('a');
    expect(() => net.transport('a')).toThrow(/taken/);
  });
});
