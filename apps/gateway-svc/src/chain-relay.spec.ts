import type { BusClient } from '@swarm/bus';
import { MAX_SIGNED_BLOCK_BYTES } from '@swarm/chain';
import type { ChainBlocksRequest, ChainBlocksResponse } from '@swarm/contracts';
import { CHAIN_PAGE_MAX_BLOCKS, chainPageLimit, ErrorCode, SwarmError } from '@swarm/contracts';
import type { PeerClient } from '@swarm/gateway';
import { swarmErrorOf } from '@swarm/testing';
import { CHAIN_PAGE_BYTE_LIMITS, createPeerChainBlocksHandler, gatewayFetchChainHandler, MIN_PAGE_CHARGE_BYTES } from './chain-relay';
import { createPeerBudgets } from './peer-budgets';
import type { PeerResolver } from './peer-resolve';

const SELF = 'a'.repeat(64);
const BOB = 'b'.repeat(64);

/** A resolver whose only peer answers every page with `answer(request)`, recording the requests. */
function peerAnswering(answer: (req: ChainBlocksRequest) => ChainBlocksResponse) {
  const asked: ChainBlocksRequest[] = [];
  const client = {
    peerId: BOB,
    call: (method: string, req: ChainBlocksRequest) => {
      if (method !== 'chainBlocks') throw new Error(`unexpected ${method}`);
      asked.push(req);
      return Promise.resolve(answer(req));
    },
    close: () => undefined,
  } as unknown as PeerClient;
  const peers: PeerResolver = { withPeer: (_nodeId, use) => use(client) };
  return { peers, asked };
}

const fetch = (peers: PeerResolver, limit: number, peerNodeId = BOB) =>
  Promise.resolve(gatewayFetchChainHandler({ nodeId: SELF, peers })({ peerNodeId, fromSeq: 1n, limit }, {} as never));

describe('gateway-svc - chain pages', () => {
  it('clamps page sizes to 1..CHAIN_PAGE_MAX_BLOCKS, 0 meaning the most', () => {
    expect([0, 1, 7, CHAIN_PAGE_MAX_BLOCKS, CHAIN_PAGE_MAX_BLOCKS + 1, 4_294_967_295].map(chainPageLimit)).toEqual([1_000, 1, 7, 1_000, 1_000, 1_000]);
  });

  it("hands back a page of the peer's own chain, asked with the clamped limit", async () => {
    const { peers, asked } = peerAnswering(() => ({ blocks: [Uint8Array.of(1), Uint8Array.of(2)], headSeq: 9n, nodeId: BOB }));
    await expect(fetch(peers, 0)).resolves.toEqual({ blocks: [Uint8Array.of(1), Uint8Array.of(2)], headSeq: 9n, nodeId: BOB });
    expect(asked).toEqual([{ fromSeq: 1n, limit: 1_000 }]);
  });

  it('refuses a page of another chain, with more blocks than asked, or with a block over the size limit, quoting no input', async () => {
    const pages: [ChainBlocksResponse, number, RegExp][] = [
      [{ blocks: [], headSeq: 1n, nodeId: 'c'.repeat(64) }, ErrorCode.ERROR_CODE_INVALID_CHAIN, /wrong-node.*node cccccccccccc…/],
      [{ blocks: [], headSeq: 1n, nodeId: 'z'.repeat(10_000) }, ErrorCode.ERROR_CODE_INVALID_CHAIN, /a node id of 10000 characters/],
      [{ blocks: [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)], headSeq: 3n, nodeId: BOB }, ErrorCode.ERROR_CODE_INVALID_CHAIN, /3 blocks, 2 were asked/],
      [{ blocks: [Uint8Array.of(1), new Uint8Array(MAX_SIGNED_BLOCK_BYTES + 1)], headSeq: 2n, nodeId: BOB }, ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, /block 2 of the page/],
    ];
    for (const [page, code, message] of pages) {
      const { peers } = peerAnswering(() => page);
      const err = await swarmErrorOf(fetch(peers, 2));
      expect({ code: err.code, message: err.message }).toEqual({ code, message: expect.stringMatching(message) });
      expect(err.message.length).toBeLessThan(300);
    }
  });

  it('refuses a bad or own peer id before calling anyone', async () => {
    const { peers, asked } = peerAnswering(() => ({ blocks: [], headSeq: 0n, nodeId: BOB }));
    await expect(fetch(peers, 1, SELF)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    await expect(fetch(peers, 1, 'not-a-node')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(asked).toEqual([]);
  });

  it("sends a caller its pages within its budget of bytes, charged the page's real size, and its network's; past it OVERLOADED with when to retry", async () => {
    const MIB = 1024 * 1024;
    let now = 0;
    const read: ChainBlocksRequest[] = [];
    // Blocks of 1,024 bytes: a full page is 1,024,000, taken as CHAIN_PAGE_MAX_BYTES before it is read.
    const bus = {
      request: (_rpc: unknown, req: ChainBlocksRequest) => {
        read.push(req);
        return Promise.resolve({ blocks: Array.from({ length: req.limit }, () => new Uint8Array(1_024)), headSeq: 5_000n, nodeId: SELF });
      },
    } as unknown as BusClient;
    const pageBytes = createPeerBudgets(CHAIN_PAGE_BYTE_LIMITS, { now: () => now });
    const handler = createPeerChainBlocksHandler({ bus, pageBytes });
    const ask = (peerId: string, network: string, limit = 1_000) =>
      Promise.resolve(handler({ peerId, network, request: { fromSeq: 1n, limit }, signal: new AbortController().signal } as never));
    const untilRefused = async (peerId: string, network: string, limit: number) => {
      for (let sent = 0; ; sent += 1) {
        const answer = await ask(peerId, network, limit).catch((err: SwarmError) => err);
        if (answer instanceof Error) return { sent, refused: answer };
      }
    };
    // 16 MiB at once: sixteen full pages leave 393,216 bytes, so a seventeenth is sent (a byte is
    // left), owing 630,784; the next is refused without reading.
    const full = await untilRefused(BOB, 'net-1', 1_000);
    expect(full.sent).toBe(17);
    expect(read).toHaveLength(17);
    expect(full.refused).toMatchObject({
      code: ErrorCode.ERROR_CODE_OVERLOADED,
      retryable: true,
      message: expect.stringMatching(/at most 1 MiB of chain pages a second to your node/),
    });
    expect(full.refused.retryAfterMs).toBe(Math.ceil(((17 * 1_024_000 - 16 * MIB + 1) * 1000) / MIB));
    // Another caller on the same network has its own budget, within the network's.
    await expect(ask('c'.repeat(64), 'net-1')).resolves.toMatchObject({ nodeId: SELF });
    now += full.refused.retryAfterMs;
    await expect(ask(BOB, 'net-1', 10)).resolves.toMatchObject({ nodeId: SELF });
    // A page of one block (or none, past the head) is charged MIN_PAGE_CHARGE_BYTES: 1,024 of them to a fresh caller.
    expect((await untilRefused('d'.repeat(64), 'net-3', 1)).sent).toBe((16 * MIB) / MIN_PAGE_CHARGE_BYTES);
    // Calls sent at once each take a full page's bytes before any is read: a network's 64 MiB lets
    // 64 of 100 callers' full pages through, not all 100.
    const callers = Array.from({ length: 100 }, (_, i) => i.toString(16).padStart(64, '0'));
    const outcomes = await Promise.all(
      callers.map((peer) =>
        ask(peer, 'net-2').then(
          () => 'sent',
          (err: { code: number }) => err.code,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(64);
    expect(outcomes.filter((o) => o === ErrorCode.ERROR_CODE_OVERLOADED)).toHaveLength(36);
  });

  it('takes at least the least charge before reading, so small pages asked at once pass only within the budget; a failed read costs the least charge, a cancelled one its guess', async () => {
    let failWith: Error | undefined = undefined;
    const bus = {
      request: (_rpc: unknown, req: ChainBlocksRequest) =>
        failWith ? Promise.reject(failWith) : Promise.resolve({ blocks: Array.from({ length: req.limit }, () => new Uint8Array(100)), headSeq: 5n, nodeId: SELF }),
    } as unknown as BusClient;
    const pageBytes = createPeerBudgets(CHAIN_PAGE_BYTE_LIMITS, { now: () => 0 });
    const handler = createPeerChainBlocksHandler({ bus, pageBytes });
    const ask = (peerId: string, limit: number, signal = new AbortController().signal) =>
      Promise.resolve(handler({ peerId, network: 'net', request: { fromSeq: 1n, limit }, signal } as never)).then(
        () => 'sent',
        (err: { code: number }) => err.code,
      );
    // 2,000 one-block calls at once: each takes 16 KiB before any is read, so 1,024 pass, not 2,000.
    const outcomes = await Promise.all(Array.from({ length: 2_000 }, () => ask(BOB, 1)));
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1_024);
    // A failed read is charged the least: a fresh caller's 1,024 failures spend its 16 MiB.
    failWith = new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, "this node's ledger did not answer", true);
    let failed = 0;
    while ((await ask('c'.repeat(64), 1_000)) === ErrorCode.ERROR_CODE_UNAVAILABLE) failed += 1;
    expect(failed).toBe(1_024);
    // A cancelled call keeps its guess (a full page's bytes): 16 of them spend a fresh caller's budget.
    const cancelled = new AbortController();
    cancelled.abort();
    let aborted = 0;
    while ((await ask('d'.repeat(64), 1_000, cancelled.signal)) === ErrorCode.ERROR_CODE_UNAVAILABLE) aborted += 1;
    expect(aborted).toBe(16);
  });
});
