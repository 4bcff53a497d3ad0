import { ErrorCode, SwarmError } from '@swarm/contracts';
import { manualClock, systemClock } from '@swarm/determinism';
import { peerAddressToDial } from '@swarm/dht-gateway';
import type { NodeCertificate } from '@swarm/identity';
import type { PeerAddress, PeerClient } from '@swarm/gateway';
import { PeerIdentityError } from '@swarm/gateway';
import { createPeerPool } from './peer-pool';

/**
 * Attacks on the unreached-address memory (peer-pool UNREACHED_MS, 9e8559a). An honest dual-stack
 * peer H (h.example:7400) answers only at [2001:db8::1]:7400: its IPv4 address has no route from
 * here. Any stranger can write a record naming its own node id at a name of its own that resolves to
 * H's address, and have this node dial it.
 */
const H = 'ab'.repeat(32);
const X = 'cd'.repeat(32);
const NAMES: Record<string, string[]> = {
  'h.example': ['2001:db8::1', '203.0.113.9'],
  'x.example': ['2001:db8::1'],
};

function world() {
  const dials: string[] = [];
  const pool = createPeerPool({
    certificate: {} as NodeCertificate,
    clock: systemClock,
    stopwatch: manualClock(0),
    maxMessageBytes: 1024,
    dial: (p): PeerClient => {
      const at = `${p.address.host}#${p.address.port}`;
      dials.push(`${p.nodeId.slice(0, 2)} ${at}`);
      const call = () => {
        if (at === '2001:db8::1#7400') {
          // H's gateway: the TLS pin holds for H alone.
          return p.nodeId === H ? Promise.resolve('ok' as never) : Promise.reject(new PeerIdentityError(`${at} answered as another node`));
        }
        // Nothing listens on H's other ports; its IPv4 address has no route from here.
        return Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `${at}: unreachable (no route / refused)`));
      };
      return { peerId: p.nodeId, call: call, close: () => undefined };
    },
    addressToDial: async (p, unreached) => ({
      ...p,
      address: { ...p.address, host: await peerAddressToDial(p.address.host, 'public', async (n) => NAMES[n] ?? [], unreached) },
    }),
  });
  const call = (p: PeerAddress) =>
    pool
      .with(p, (c) => c.call('ping' as never, {} as never))
      .then(
        () => 'ok',
        (e: Error) => `failed: ${e.message}`,
      );
  return { dials, call };
}

describe('peer pool: the unreached-address memory under attack (helper-174)', () => {
  it("a stranger's record at another port of an honest peer's address does not divert the honest peer's dials", async () => {
    const { dials, call } = world();
    // The stranger's record: its own node id, its own name resolving to H's address, a port where nothing listens.
    expect(await call({ nodeId: X, address: { host: 'x.example', port: 9 } })).toMatch(/^failed/);
    // H's address answered nothing at port 9, which says nothing of H's gateway at 7400.
    expect(await call({ nodeId: H, address: { host: 'h.example', port: 7400 } })).toBe('ok');
    expect(dials).toEqual(['cd 2001:db8::1#9', 'ab 2001:db8::1#7400']);
  });

  it("a stranger's record naming another node id at an honest peer's very address does not divert the honest peer's dials", async () => {
    const { dials, call } = world();
    // Same address and port as H; the pin fails (PeerIdentityError): H's address reached H, just not X.
    expect(await call({ nodeId: X, address: { host: 'x.example', port: 7400 } })).toMatch(/answered as another node/);
    expect(await call({ nodeId: H, address: { host: 'h.example', port: 7400 } })).toBe('ok');
    expect(dials).toEqual(['cd 2001:db8::1#7400', 'ab 2001:db8::1#7400']);
  });
});

describe('peer pool: the unreached mark expires (helper-174)', () => {
  it('dials a name at an address that failed once again after UNREACHED_MS, while its other address still fits', async () => {
    const { UNREACHED_MS } = await import('./peer-pool');
    const stopwatch = manualClock(0);
    const dials: string[] = [];
    let v6Up = false;
    const pool = createPeerPool({
      certificate: {} as NodeCertificate,
      clock: systemClock,
      stopwatch,
      size: 1,
      maxMessageBytes: 1024,
      dial: (p): PeerClient => {
        dials.push(p.address.host);
        const ok = p.address.host !== '2001:db8::1' || v6Up;
        const call = () => (ok ? Promise.resolve('ok' as never) : Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no route to host')));
        return { peerId: p.nodeId, call: call, close: () => undefined };
      },
      addressToDial: async (p, unreached) => ({
        ...p,
        address: { ...p.address, host: await peerAddressToDial(p.address.host, 'public', async () => ['2001:db8::1', '203.0.113.9'], unreached) },
      }),
    });
    const dual: PeerAddress = { nodeId: H, address: { host: 'dual.example', port: 7400 } };
    const other: PeerAddress = { nodeId: X, address: { host: '198.51.100.4', port: 7400 } };
    const use = (p: PeerAddress) =>
      pool
        .with(p, (c) => c.call('ping' as never, {} as never))
        .then(
          () => 'ok',
          () => 'failed',
        );
    expect(await use(dual)).toBe('failed'); // 2001:db8::1, no route: marked
    expect(await use(dual)).toBe('ok'); // 203.0.113.9
    v6Up = true; // the IPv6 route comes back
    stopwatch.advance(UNREACHED_MS);
    await use(other); // pushes dual's client out of the pool (size 1): its next call dials again
    expect(await use(dual)).toBe('ok');
    expect(dials).toEqual(['2001:db8::1', '203.0.113.9', '198.51.100.4', '2001:db8::1']);
  });
});

describe("peer pool: strangers' failing dials against an honest peer's unreached mark (helper-175)", () => {
  it("keeps an honest peer's mark through a thousand strangers' named dials that fail within the minute", async () => {
    const dials: string[] = [];
    const pool = createPeerPool({
      certificate: {} as NodeCertificate,
      clock: systemClock,
      stopwatch: manualClock(0),
      maxMessageBytes: 1024,
      dial: (p): PeerClient => {
        dials.push(`${p.nodeId.slice(0, 4)} ${p.address.host}`);
        const ok = p.nodeId === H && p.address.host === '203.0.113.9';
        return {
          peerId: p.nodeId,
          call: () => (ok ? Promise.resolve('ok' as never) : Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no route to host'))),
          close: () => undefined,
        };
      },
      addressToDial: async (p, unreached) => ({
        ...p,
        address: {
          ...p.address,
          host: await peerAddressToDial(
            p.address.host,
            'public',
            async (n) => (n === 'h.example' ? ['2001:db8::1', '203.0.113.9'] : [`198.51.100.${Number(n.split('.')[0].slice(1)) % 250}`]),
            unreached,
          ),
        },
      }),
    });
    const use = (p: PeerAddress) =>
      pool
        .with(p, (c) => c.call('ping' as never, {} as never))
        .then(
          () => 'ok',
          () => 'failed',
        );
    const honest: PeerAddress = { nodeId: H, address: { host: 'h.example', port: 7400 } };
    expect(await use(honest)).toBe('failed'); // its IPv6 address has no route from here: marked
    // A thousand strangers' records, each a name of their own at an address that answers nothing.
    for (let i = 0; i < 1_000; i++) await use({ nodeId: i.toString(16).padStart(64, 'e'), address: { host: `s${i}.example`, port: 7400 } });
    dials.length = 0;
    expect(await use(honest)).toBe('ok');
    expect(dials).toEqual(['abab 203.0.113.9']);
  });
});
