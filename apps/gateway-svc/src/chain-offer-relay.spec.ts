import type { BusClient } from '@swarm/bus';
import { MAX_SIGNED_BLOCK_BYTES } from '@swarm/chain';
import type { AcceptChainOfferRequest, ChainOffer } from '@swarm/contracts';
import { CHAIN_OFFER_MAX_BLOCKS, CreditAcceptChainOffer, ErrorCode } from '@swarm/contracts';
import type { PeerClient } from '@swarm/gateway';
import { swarmErrorOf } from '@swarm/testing';
import { CHAIN_OFFER_BYTE_LIMITS, createPeerOfferChainHandler, gatewayOfferChainHandler, MIN_OFFER_CHARGE_BYTES } from './chain-offer-relay';
import { createPeerBudgets } from './peer-budgets';
import type { PeerResolver } from './peer-resolve';

const SELF = 'a'.repeat(64);
const BOB = 'b'.repeat(64);
const MIB = 1024 * 1024;

const blocksOf = (count: number, bytes: number) => Array.from({ length: count }, () => new Uint8Array(bytes));

describe('gateway-svc - offers of a payer behind NAT of its own chain', () => {
  it("sends this node's offer to the payee and hands back where it wants the chain from; refuses bad offers and peer ids before calling anyone", async () => {
    const asked: ChainOffer[] = [];
    const client = {
      peerId: BOB,
      call: (method: string, req: ChainOffer) => {
        if (method !== 'offerChain') throw new Error(`unexpected ${method}`);
        asked.push(req);
        return Promise.resolve({ wantedFromSeq: req.fromSeq + BigInt(req.blocks.length) });
      },
    } as unknown as PeerClient;
    const peers: PeerResolver = { withPeer: (_nodeId, use) => use(client) };
    const offer = (peerNodeId: string, o: ChainOffer | undefined) => Promise.resolve(gatewayOfferChainHandler({ nodeId: SELF, peers })({ peerNodeId, offer: o }, {} as never));
    await expect(offer(BOB, { fromSeq: 4n, blocks: blocksOf(3, 10) })).resolves.toEqual({ wantedFromSeq: 7n });
    expect(asked).toEqual([{ fromSeq: 4n, blocks: blocksOf(3, 10) }]);
    const refused: Array<[string, ChainOffer | undefined, ErrorCode, RegExp]> = [
      [BOB, undefined, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /offer is required/],
      [BOB, { fromSeq: 1n, blocks: blocksOf(CHAIN_OFFER_MAX_BLOCKS + 1, 1) }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /at most 32 blocks, this one 33/],
      [BOB, { fromSeq: 1n, blocks: [new Uint8Array(1), new Uint8Array(MAX_SIGNED_BLOCK_BYTES + 1)] }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /block 2 of the offer/],
      [SELF, { fromSeq: 1n, blocks: [] }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /./],
      ['x'.repeat(10_000), { fromSeq: 1n, blocks: [] }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /./],
    ];
    for (const [peer, o, code, message] of refused) {
      const err = await swarmErrorOf(offer(peer, o));
      expect({ code: err.code, message: err.message }).toEqual({ code, message: expect.stringMatching(message) });
      expect(err.message.length).toBeLessThan(300);
    }
    expect(asked).toHaveLength(1);
  });

  it("passes a peer's offer to credit-svc as that peer's chain, within its budget of bytes and its network's; past it OVERLOADED with when to retry", async () => {
    let now = 0;
    const relayed: AcceptChainOfferRequest[] = [];
    const bus = {
      request: (rpc: unknown, req: AcceptChainOfferRequest) => {
        expect(rpc).toBe(CreditAcceptChainOffer);
        relayed.push(req);
        return Promise.resolve({ wantedFromSeq: 9n });
      },
    } as unknown as BusClient;
    const handler = createPeerOfferChainHandler({ bus, offerBytes: createPeerBudgets(CHAIN_OFFER_BYTE_LIMITS, { now: () => now }) });
    const send = (peerId: string, network: string, request: ChainOffer) => Promise.resolve(handler({ peerId, network, request, signal: new AbortController().signal } as never));
    const untilRefused = async (peerId: string, network: string, request: ChainOffer) => {
      for (let sent = 0; ; sent += 1) {
        const answer = await send(peerId, network, request).catch((err: Error) => err);
        if (answer instanceof Error) return { sent, refused: answer as Error & { code: ErrorCode; retryAfterMs: number } };
      }
    };
    // Offers of 32 blocks of 8 KiB (256 KiB): 32 spend the 8 MiB burst, and the next waits for a byte's refill (1 ms).
    const page = { fromSeq: 1n, blocks: blocksOf(32, 8 * 1024) };
    const full = await untilRefused(BOB, 'net-1', page);
    expect(full.sent).toBe(32);
    expect(relayed.every((r) => r.fromNodeId === BOB)).toBe(true);
    expect(relayed[0].offer).toEqual(page);
    expect(full.refused).toMatchObject({
      code: ErrorCode.ERROR_CODE_OVERLOADED,
      retryable: true,
      message: expect.stringMatching(/at most 0.5 MiB of offered chain blocks a second/),
    });
    expect(full.refused.retryAfterMs).toBe(1);
    now += 1_000;
    await expect(send(BOB, 'net-1', page)).resolves.toEqual({ wantedFromSeq: 9n });
    // An empty offer (asking where to start) is charged MIN_OFFER_CHARGE_BYTES: 2,048 of them to a fresh caller.
    expect((await untilRefused('c'.repeat(64), 'net-2', { fromSeq: 0n, blocks: [] })).sent).toBe((8 * MIB) / MIN_OFFER_CHARGE_BYTES);
    // A network takes four callers' worth: a fifth caller on net-3 is refused at once once four have spent theirs.
    for (const peer of ['1', '2', '3', '4']) expect((await untilRefused(peer.repeat(64), 'net-3', page)).sent).toBe(32);
    expect((await untilRefused('5'.repeat(64), 'net-3', page)).sent).toBe(0);
  });
});
