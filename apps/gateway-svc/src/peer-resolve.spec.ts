import type { BusClient } from '@swarm/bus';
import type { FindNodeRecordResponse } from '@swarm/contracts';
import { ErrorCode, RegistryNodeRecord, SwarmError } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import type { PeerAddress, PeerClient } from '@swarm/gateway';
import { formatHostPort, PeerIdentityError } from '@swarm/gateway';
import { swarmErrorOf } from '@swarm/testing';
import { createPeerBook } from './peer-book';
import type { PeerPool } from './peer-pool';
import { checkPeerNodeId, createPeerResolver } from './peer-resolve';

const NOW = 1_800_000_000_000;
const SELF = 'a'.repeat(64);
const BOB = 'b'.repeat(64);

/** A registry answering `records` (node id -> gateway address), or failing with `failure` when set. */
function registryBus(records: Map<string, string>) {
  const asked: string[] = [];
  const state: { failure?: Error } = {};
  const bus: BusClient = {
    request: async (rpc, req) => {
      if (rpc.subject !== RegistryNodeRecord.subject) throw new Error(`unexpected ${rpc.subject}`);
      const { nodeId } = req as { nodeId: string };
      asked.push(nodeId);
      if (state.failure) throw state.failure;
      const address = records.get(nodeId);
      const answer: FindNodeRecordResponse = { found: address !== undefined, expiresAtMs: address === undefined ? 0n : BigInt(NOW + 60_000), gatewayAddress: address ?? '' };
      return answer as never;
    },
    requestAcked: () => Promise.reject(new Error('not used')),
    publish: () => undefined,
    subscribe: () => {
      throw new Error('not used');
    },
  };
  return { bus, asked, state };
}

/** A pool whose peers answer by address: `reachable` holds the host:port where the peer is itself. */
function fakePool(reachable: Set<string>, impostorAt = new Set<string>()) {
  const dialled: string[] = [];
  const pool: PeerPool = {
    async with<T>(peer: PeerAddress, use: (client: PeerClient) => Promise<T>): Promise<T> {
      const at = formatHostPort(peer.address);
      dialled.push(at);
      if (impostorAt.has(at)) throw new PeerIdentityError(`${at} is another node`);
      if (!reachable.has(at)) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `${at}: connect ECONNREFUSED`);
      return use({ peerId: peer.nodeId, call: () => Promise.reject(new Error('not used')), close: () => undefined });
    },
    size: () => 0,
    close: () => undefined,
  };
  return { pool, dialled };
}

const answerAt = (client: PeerClient) => Promise.resolve(client.peerId);

describe('gateway-svc - peer resolution by node id', () => {
  it('checks peer node ids: 64 lowercase hex, not this node, quoting no input', () => {
    expect(checkPeerNodeId(BOB, SELF)).toBe(BOB);
    for (const bad of ['', 'B'.repeat(64), 'b'.repeat(63), 'x'.repeat(100_000)]) {
      expect(() => checkPeerNodeId(bad, SELF)).toThrow(
        expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.not.stringContaining('xxxxxxxxxxxxxxxxxxxx') }),
      );
    }
    expect(() => checkPeerNodeId(SELF, SELF)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.stringMatching(/is this node/) }));
  });

  it("uses the peer book's address without asking the registry, and notes the peer once it answered", async () => {
    const book = createPeerBook();
    book.noteSeen(BOB, '10.0.0.2:7400', 1);
    const { bus, asked } = registryBus(new Map());
    const { pool, dialled } = fakePool(new Set(['10.0.0.2:7400']));
    const peers = createPeerResolver({ pool, peerBook: book, bus, clock: manualClock(NOW) });
    await expect(peers.withPeer(BOB, answerAt)).resolves.toBe(BOB);
    expect({ dialled, asked }).toEqual({ dialled: ['10.0.0.2:7400'], asked: [] });
    expect(book.list(SELF)[0]).toMatchObject({ nodeId: BOB, lastSeenMs: BigInt(NOW) });
  });

  it("asks the registry for a peer not in the book and keeps the record's address in the book", async () => {
    const book = createPeerBook();
    const { bus, asked } = registryBus(new Map([[BOB, '10.0.0.2:7400']]));
    const { pool } = fakePool(new Set(['10.0.0.2:7400']));
    const peers = createPeerResolver({ pool, peerBook: book, bus, clock: manualClock(NOW) });
    await expect(peers.withPeer(BOB, answerAt)).resolves.toBe(BOB);
    expect(asked).toEqual([BOB]);
    expect(book.addressOf(BOB)).toBe('10.0.0.2:7400');
  });

  it("tries the record's address once when the book's is unreachable or another node, and not when they are the same", async () => {
    for (const stale of ['unreachable', 'impostor'] as const) {
      const book = createPeerBook();
      book.noteSeen(BOB, '10.0.0.9:7400', 1);
      const { bus } = registryBus(new Map([[BOB, '10.0.0.2:7400']]));
      const { pool, dialled } = fakePool(new Set(['10.0.0.2:7400']), stale === 'impostor' ? new Set(['10.0.0.9:7400']) : new Set());
      const peers = createPeerResolver({ pool, peerBook: book, bus, clock: manualClock(NOW) });
      await expect(peers.withPeer(BOB, answerAt)).resolves.toBe(BOB);
      expect({ stale, dialled }).toEqual({ stale, dialled: ['10.0.0.9:7400', '10.0.0.2:7400'] });
      expect(book.addressOf(BOB)).toBe('10.0.0.2:7400');
    }
    const book = createPeerBook();
    book.noteSeen(BOB, '10.0.0.2:7400', 1);
    const { bus } = registryBus(new Map([[BOB, '10.0.0.2:7400']]));
    const { pool, dialled } = fakePool(new Set());
    const peers = createPeerResolver({ pool, peerBook: book, bus, clock: manualClock(NOW) });
    await expect(peers.withPeer(BOB, answerAt)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true });
    expect(dialled).toEqual(['10.0.0.2:7400']);
  });

  it("passes the peer's own refusals on without trying elsewhere", async () => {
    const book = createPeerBook();
    book.noteSeen(BOB, '10.0.0.9:7400', 1);
    const { bus, asked } = registryBus(new Map([[BOB, '10.0.0.2:7400']]));
    const { pool } = fakePool(new Set(['10.0.0.9:7400']));
    const peers = createPeerResolver({ pool, peerBook: book, bus, clock: manualClock(NOW) });
    const refusal = new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, 'receipt refused (replayed)');
    await expect(peers.withPeer(BOB, () => Promise.reject(refusal))).rejects.toBe(refusal);
    expect(asked).toEqual([]);
  });

  it('answers UNAVAILABLE when nobody knows the address or the registry cannot tell, passing its OVERLOADED on', async () => {
    const { bus, state } = registryBus(new Map([[BOB, '10.0.0.2:0']]));
    const { pool, dialled } = fakePool(new Set());
    const peers = createPeerResolver({ pool, peerBook: createPeerBook(), bus, clock: manualClock(NOW) });
    await expect(peers.withPeer('c'.repeat(64), answerAt)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      retryable: true,
      message: expect.stringMatching(/no address known for peer cccccccccccc…/),
    });
    await expect(peers.withPeer(BOB, answerAt)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: expect.stringMatching(/gives no address to dial/) });
    state.failure = new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'x'.repeat(10_000));
    const err = await swarmErrorOf(peers.withPeer(BOB, answerAt));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true, message: expect.stringMatching(/cannot look up the address of peer/) });
    expect(err.message.length).toBeLessThan(300);
    state.failure = new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy');
    await expect(peers.withPeer(BOB, answerAt)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED });
    expect(dialled).toEqual([]);
  });
});
