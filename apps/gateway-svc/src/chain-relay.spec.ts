import { MAX_SIGNED_BLOCK_BYTES } from '@swarm/chain';
import type { ChainBlocksRequest, ChainBlocksResponse } from '@swarm/contracts';
import { CHAIN_PAGE_MAX_BLOCKS, chainPageLimit, ErrorCode } from '@swarm/contracts';
import type { PeerClient } from '@swarm/gateway';
import { swarmErrorOf } from '@swarm/testing';
import { gatewayFetchChainHandler } from './chain-relay';
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
});
