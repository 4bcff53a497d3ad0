import { ErrorCode, SwarmError } from '@swarm/contracts';
import { manualClock, systemClock } from '@swarm/determinism';
import { peerAddressToDial } from '@swarm/dht-gateway';
import type { NodeCertificate } from '@swarm/identity';
import type { PeerAddress, PeerClient } from '@swarm/gateway';
import { createPeerPool, UNREACHED_MS } from './peer-pool';

/** Peer `n` at 127.0.0.1:(7000 + n). */
function peer(n: number): PeerAddress {
  return { nodeId: n.toString(16).padStart(64, '0'), address: { host: '127.0.0.1', port: 7000 + n } };
}

/** A pool of `size` whose clients record when they are made and closed. */
function recordingPool(size: number) {
  const events: string[] = [];
  const pool = createPeerPool({
    certificate: {} as NodeCertificate,
    clock: systemClock,
    maxMessageBytes: 1024,
    size,
    dial: (p) => {
      const port = p.address.port;
      events.push(`dial ${port}`);
      const client: PeerClient = { peerId: p.nodeId, call: () => Promise.reject(new Error('not used')), close: () => void events.push(`close ${port}`) };
      return client;
    },
  });
  const use = (n: number, work: () => Promise<void> = async () => undefined) => pool.with(peer(n), work);
  return { pool, events, use };
}

describe('gateway-svc - peer pool', () => {
  it('reuses one client per peer address and closes the least recently used beyond its size', async () => {
    const { pool, events, use } = recordingPool(2);
    await use(1);
    await use(2);
    await use(1);
    await use(3);
    // 7001 was used after 7002, so 7002 is the one to go.
    expect(events).toEqual(['dial 7001', 'dial 7002', 'dial 7003', 'close 7002']);
    expect(pool.size()).toBe(2);
    await use(2);
    expect(events.slice(4)).toEqual(['dial 7002', 'close 7001']);
  });

  it('closes an evicted client only once its calls in flight have finished', async () => {
    const { events, use } = recordingPool(1);
    let finish: () => void = () => undefined;
    const long = use(1, () => new Promise<void>((resolve) => (finish = resolve)));
    await use(2);
    expect(events).toEqual(['dial 7001', 'dial 7002']);
    finish();
    await long;
    expect(events).toEqual(['dial 7001', 'dial 7002', 'close 7001']);
  });

  it('closes every client when closed, and refuses later use as UNAVAILABLE', async () => {
    const { pool, events, use } = recordingPool(4);
    await use(1);
    await use(2);
    pool.close();
    expect(events.filter((e) => e.startsWith('close')).sort()).toEqual(['close 7001', 'close 7002']);
    await expect(use(3)).rejects.toEqual(expect.objectContaining({ code: ErrorCode.ERROR_CODE_UNAVAILABLE }));
    await expect(use(3)).rejects.toBeInstanceOf(SwarmError);
  });

  it("tells onPeerError of a peer's answer, with its words kept apart, and passes the error on as it is", async () => {
    const told: Array<[number, string]> = [];
    const pool = createPeerPool({
      certificate: {} as NodeCertificate,
      clock: systemClock,
      maxMessageBytes: 1024,
      dial: (p) => ({ peerId: p.nodeId, call: () => Promise.reject(new Error('not used')), close: () => undefined }),
      onPeerError: (p, err) => void told.push([p.address.port, err.peerWords]),
    });
    const answered = Object.assign(new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'peer 01… answered SWARM_OVERLOADED'), { peerWords: 'executor busy' });
    await expect(pool.with(peer(1), () => Promise.reject(answered))).rejects.toBe(answered);
    // Errors of this node's own making are no peer's answer.
    await expect(pool.with(peer(2), () => Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'local')))).rejects.toBeInstanceOf(SwarmError);
    expect(told).toEqual([[7001, 'executor busy']]);
  });

  describe('the address each peer is dialled at (addressToDial)', () => {
    /** A pool whose peers' names resolve by `table`, refusing what is not there, and whose clients' calls fail as `fail` says. */
    function checkingPool(table: Record<string, string>) {
      const events: string[] = [];
      const pool = createPeerPool({
        certificate: {} as NodeCertificate,
        clock: systemClock,
        maxMessageBytes: 1024,
        dial: (p) => (
          events.push(`dial ${p.address.host}`),
          { peerId: p.nodeId, call: () => Promise.reject(new Error('not used')), close: () => void events.push(`close ${p.address.host}`) }
        ),
        addressToDial: async (p) => {
          events.push(`check ${p.address.host}`);
          const host = table[p.address.host];
          if (host === undefined) throw new Error(`${p.address.host} is a loopback address, named by a node that is not on this machine`);
          return { ...p, address: { ...p.address, host } };
        },
      });
      const at = (host: string): PeerAddress => ({ nodeId: 'ab'.repeat(32), address: { host, port: 7400 } });
      return { pool, events, at };
    }

    it('refuses an address it may not dial as UNAVAILABLE (another candidate may do), dialling nothing', async () => {
      const { pool, events, at } = checkingPool({});
      const err = await pool.with(at('127.0.0.1'), () => Promise.resolve('never')).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: ErrorCode.ERROR_CODE_UNAVAILABLE,
        retryable: true,
        message: expect.stringContaining('is a loopback address, named by a node that is not on this machine'),
      });
      expect(events).toEqual(['check 127.0.0.1']);
      expect(pool.size()).toBe(0);
    });

    it('dials a name at what it resolved to, checks it once while the client is pooled, and again after a failure to reach the peer', async () => {
      const { pool, events, at } = checkingPool({ 'peer.example': '203.0.113.9' });
      await pool.with(at('peer.example'), () => Promise.resolve());
      await pool.with(at('peer.example'), () => Promise.resolve());
      expect(events).toEqual(['check peer.example', 'dial 203.0.113.9']);
      // The peer's own refusal: the connection works, and is kept.
      const refusal = Object.assign(new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy'), { peerWords: 'busy', peerNamed: true });
      await expect(pool.with(at('peer.example'), () => Promise.reject(refusal))).rejects.toBe(refusal);
      expect(events).toHaveLength(2);
      // Not reached: dropped, so the next call resolves the name again (the peer may have moved).
      await expect(pool.with(at('peer.example'), () => Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no route')))).rejects.toBeInstanceOf(SwarmError);
      expect(events.slice(2)).toEqual(['close 203.0.113.9']);
      await pool.with(at('peer.example'), () => Promise.resolve());
      expect(events.slice(3)).toEqual(['check peer.example', 'dial 203.0.113.9']);
    });

    it('keeps a client dialled at a resolved name when the peer itself answered, its task past its deadline included (helper-170), not after a deadline with no answer (helper-171)', async () => {
      const { pool, events, at } = checkingPool({ 'peer.example': '203.0.113.9' });
      await pool.with(at('peer.example'), () => Promise.resolve());
      const ranOut = Object.assign(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'peer abab… answered SWARM_DEADLINE_EXCEEDED'), {
        peerWords: 'task t-1 ran past its 5000 ms',
        peerNamed: true,
      });
      await expect(pool.with(at('peer.example'), () => Promise.reject(ranOut))).rejects.toBe(ranOut);
      await pool.with(at('peer.example'), () => Promise.resolve());
      expect(events).toEqual(['check peer.example', 'dial 203.0.113.9']);
      // A deadline with no answer at all (grpc-js's own, "Waiting for LB pick": an old address that swallows connections) is not reached.
      const noAnswer = Object.assign(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'peer abab…: the call did not finish in time'), {
        peerWords: 'Deadline exceeded after 5.001s,Waiting for LB pick',
        peerNamed: false,
      });
      await expect(pool.with(at('peer.example'), () => Promise.reject(noAnswer))).rejects.toBe(noAnswer);
      await pool.with(at('peer.example'), () => Promise.resolve());
      expect(events.slice(2)).toEqual(['close 203.0.113.9', 'check peer.example', 'dial 203.0.113.9']);
    });

    it("dials a name's next address that fits for a minute after one failed to reach the peer (a dual-stack name with no IPv6 route here was dialled at its IPv6 address every time)", async () => {
      const stopwatch = manualClock(0);
      const events: string[] = [];
      const pool = createPeerPool({
        certificate: {} as NodeCertificate,
        clock: systemClock,
        stopwatch,
        maxMessageBytes: 1024,
        dial: (p) => (events.push(`dial ${p.address.host}`), { peerId: p.nodeId, call: () => Promise.reject(new Error('not used')), close: () => undefined }),
        addressToDial: async (p, unreached) => ({
          ...p,
          address: { ...p.address, host: await peerAddressToDial(p.address.host, 'public', async () => ['2001:db8::1', '203.0.113.9'], unreached) },
        }),
      });
      const dual: PeerAddress = { nodeId: 'ab'.repeat(32), address: { host: 'dual.example', port: 7400 } };
      const noRoute = () => Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no route to host'));
      await expect(pool.with(dual, noRoute)).rejects.toBeInstanceOf(SwarmError);
      await pool.with(dual, () => Promise.resolve());
      expect(events).toEqual(['dial 2001:db8::1', 'dial 203.0.113.9']);
      // The IPv4 client reached its peer: one lost call drops it, and the next is dialled there again.
      await expect(pool.with(dual, noRoute)).rejects.toBeInstanceOf(SwarmError);
      await expect(pool.with(dual, noRoute)).rejects.toBeInstanceOf(SwarmError);
      expect(events.slice(2)).toEqual(['dial 203.0.113.9']);
      // A minute after its failure an address is tried in its turn again.
      stopwatch.advance(UNREACHED_MS);
      await pool.with(dual, () => Promise.resolve());
      expect(events.slice(3)).toEqual(['dial 2001:db8::1']);
    });

    it('tells onReached once per client dialled at a resolved name, when the peer first answered (a result or its own refusal), never for a failure to reach it', async () => {
      const reached: string[] = [];
      const pool = createPeerPool({
        certificate: {} as NodeCertificate,
        clock: systemClock,
        maxMessageBytes: 1024,
        dial: (p) => ({ peerId: p.nodeId, call: () => Promise.reject(new Error('not used')), close: () => undefined }),
        addressToDial: async (p) => ({ ...p, address: { ...p.address, host: p.address.host === 'peer.example' ? '203.0.113.9' : p.address.host } }),
        onReached: (p) => void reached.push(p.address.host),
      });
      const at = (host: string): PeerAddress => ({ nodeId: 'ab'.repeat(32), address: { host, port: 7400 } });
      await expect(pool.with(at('peer.example'), () => Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no route')))).rejects.toBeInstanceOf(SwarmError);
      expect(reached).toEqual([]);
      const refusal = Object.assign(new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy'), { peerWords: 'busy', peerNamed: true });
      await expect(pool.with(at('peer.example'), () => Promise.reject(refusal))).rejects.toBe(refusal);
      await pool.with(at('peer.example'), () => Promise.resolve());
      // An address as given has nothing to keep.
      await pool.with(at('198.51.100.4'), () => Promise.resolve());
      expect(reached).toEqual(['peer.example']);
    });

    it('does not pass over an address whose handshake met the peer when a call there runs out of time (a slow peer is reached), and tells onReached', async () => {
      const stopwatch = manualClock(0);
      const events: string[] = [];
      const reached: string[] = [];
      let handshakes = true;
      const pool = createPeerPool({
        certificate: {} as NodeCertificate,
        clock: systemClock,
        stopwatch,
        maxMessageBytes: 1024,
        dial: (p) => {
          events.push(`dial ${p.address.host}`);
          const met = handshakes;
          return { peerId: p.nodeId, call: () => Promise.reject(new Error('not used')), close: () => undefined, reachedPeer: () => met };
        },
        addressToDial: async (p, unreached) => ({
          ...p,
          address: { ...p.address, host: await peerAddressToDial(p.address.host, 'public', async () => ['2001:db8::1', '203.0.113.9'], unreached) },
        }),
        onReached: (p) => void reached.push(p.address.host),
      });
      const dual: PeerAddress = { nodeId: 'ab'.repeat(32), address: { host: 'dual.example', port: 7400 } };
      const slow = () =>
        Promise.reject(
          Object.assign(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'the call did not finish in time'), { peerWords: 'Deadline exceeded', peerNamed: false }),
        );
      await expect(pool.with(dual, slow)).rejects.toBeInstanceOf(SwarmError);
      await expect(pool.with(dual, slow)).rejects.toBeInstanceOf(SwarmError);
      // Dropped each time (its name resolved again), but dialled at the address that reached the peer.
      expect(events).toEqual(['dial 2001:db8::1', 'dial 2001:db8::1']);
      expect(reached).toEqual(['dual.example', 'dual.example']);
      // A handshake that never met the peer: that address is passed over for the next.
      handshakes = false;
      await expect(pool.with(dual, slow)).rejects.toBeInstanceOf(SwarmError);
      await pool.with(dual, () => Promise.resolve());
      expect(events.slice(2)).toEqual(['dial 2001:db8::1', 'dial 203.0.113.9']);
    });

    it('keeps a client dialled at the address as given through failures (nothing to resolve again)', async () => {
      const { pool, events, at } = checkingPool({ '198.51.100.4': '198.51.100.4' });
      await expect(pool.with(at('198.51.100.4'), () => Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'cut')))).rejects.toBeInstanceOf(SwarmError);
      await pool.with(at('198.51.100.4'), () => Promise.resolve());
      expect(events).toEqual(['check 198.51.100.4', 'dial 198.51.100.4']);
    });
  });
});
