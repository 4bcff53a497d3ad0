import { ErrorCode, SwarmError } from '@swarm/contracts';
import { manualClock, systemClock } from '@swarm/determinism';
import { peerAddressToDial } from '@swarm/dht-gateway';
import type { NodeCertificate } from '@swarm/identity';
import type { PeerAddress, PeerClient } from '@swarm/gateway';
import { createPeerPool } from './peer-pool';

const H = 'ab'.repeat(32);

/** H at dual.example: its IPv6 address has no route from here; its IPv4 address answers unless `v4Down`. */
function world() {
  const stopwatch = manualClock(0);
  const dials: string[] = [];
  const state = { v4Down: false };
  const pool = createPeerPool({
    certificate: {} as NodeCertificate,
    clock: systemClock,
    stopwatch,
    maxMessageBytes: 1024,
    dial: (p): PeerClient => {
      dials.push(`${p.address.host}#${p.address.port}`);
      const call = () =>
        p.address.host === '203.0.113.9' && p.address.port === 7400 && !state.v4Down
          ? Promise.resolve('ok' as never)
          : Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no route / refused'));
      return { peerId: p.nodeId, call, close: () => undefined };
    },
    addressToDial: async (p, unreached) => ({
      ...p,
      address: { ...p.address, host: await peerAddressToDial(p.address.host, 'public', async () => ['2001:db8::1', '203.0.113.9'], unreached) },
    }),
  });
  const use = (p: PeerAddress) =>
    pool
      .with(p, (c) => c.call('ping' as never, {} as never))
      .then(
        () => 'ok',
        () => 'failed',
      );
  return { stopwatch, dials, state, use };
}

describe('peer pool - unreached addresses (helper-175)', () => {
  const dual: PeerAddress = { nodeId: H, address: { host: 'dual.example', port: 7400 } };

  it('with every address failed lately, dials the one that failed longest ago, not the first again and again', async () => {
    const { stopwatch, dials, state, use } = world();
    expect(await use(dual)).toBe('failed'); // IPv6: no route, marked at 0
    stopwatch.advance(1_000);
    state.v4Down = true;
    expect(await use(dual)).toBe('failed'); // IPv4, never reached: marked at 1 s
    state.v4Down = false;
    stopwatch.advance(1_000);
    expect(await use(dual)).toBe('failed'); // both marked: IPv6 failed longest ago (0), marked again at 2 s
    stopwatch.advance(1_000);
    expect(await use(dual)).toBe('ok'); // IPv4 (1 s) now failed longest ago
    expect(dials).toEqual(['2001:db8::1#7400', '203.0.113.9#7400', '2001:db8::1#7400', '203.0.113.9#7400']);
  });

  it('does not pass over an address whose client reached its peer for one lost call after (a restart): the client is dialled again there', async () => {
    const { stopwatch, dials, state, use } = world();
    expect(await use(dual)).toBe('failed'); // IPv6: no route, marked
    expect(await use(dual)).toBe('ok'); // IPv4, reached
    state.v4Down = true;
    expect(await use(dual)).toBe('failed'); // dropped, not marked
    state.v4Down = false;
    stopwatch.advance(1_000);
    expect(await use(dual)).toBe('ok');
    expect(dials).toEqual(['2001:db8::1#7400', '203.0.113.9#7400', '203.0.113.9#7400']);
  });

  it('marks an address for the port that failed: the same node id at another port of its address does not move its dials ', async () => {
    const { dials, use } = world();
    expect(await use({ nodeId: H, address: { host: 'dual.example', port: 9 } })).toBe('failed'); // 2001:db8::1#9
    // Port 7400 never failed at 2001:db8::1: the first that fits, IPv6, is dialled as before.
    await use({ nodeId: H, address: { host: 'dual.example', port: 7400 } });
    expect(dials).toEqual(['2001:db8::1#9', '2001:db8::1#7400']);
  });
});
