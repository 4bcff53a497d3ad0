/**
 * The receiving half: the four DHT methods of PeerService, for the gateway server's handlers. The
 * sender a DHT handler learns is the caller the gateway authenticated (its certificate's key), at
 * the address the caller says it accepts peers on: a false address only makes the contact
 * unreachable, since dialling it pins the caller's node id. A request whose sender_pow_nonce is no
 * proof of work on the caller's node id, or whose sender_id is not the DHT id the two give, is
 * refused with PERMISSION_DENIED before the DHT sees it, so no peer stores, or enters a routing
 * table, under another node's id or under an id that cost no work. Every field is checked as the
 * memory path checks it (@swarm/dht wire checks); until a DHT listens (and after it closes) calls
 * answer UNAVAILABLE.
 * Every call also carries the network of the caller's connection (from the socket), which the DHT
 * counts the records it holds against and shares its dial-backs out by.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { DhtHandlers } from '@swarm/dht';
import { checkFindNodeRequest, checkFindValueRequest, checkPingRequest, checkStoreRequest, createDhtHandlerSlot, findValueReplyOf, MAX_ENDPOINT_CHARS } from '@swarm/dht';
import type { PeerHandler } from '@swarm/gateway';
import { parseHostPort, shortId } from '@swarm/gateway';
import { hasProofOfWork } from '@swarm/records';
import { claimedHostProblem } from './claimed-address';
import { dhtEndpoint, dhtIdOfNode } from './dht-peer-id';

export type DhtPeerMethod = 'dhtPing' | 'dhtStore' | 'dhtFindNode' | 'dhtFindValue';
export type DhtPeerHandlers = { readonly [M in DhtPeerMethod]: PeerHandler<M> };

export interface DhtInbound {
  /** Spread into the gateway server's handlers. */
  readonly peerHandlers: DhtPeerHandlers;
  /** Starts passing calls to the DHT; once. */
  listen(handlers: DhtHandlers): void;
  /** Stops passing calls; later ones answer UNAVAILABLE. */
  close(): void;
}

/** Longest claimed id quoted back in a refusal. */
const QUOTED_CLAIM_CHARS = 64;

export interface DhtInboundOptions {
  /** The swarm's proof-of-work difficulty: a sender's nonce must meet it. */
  readonly powDifficulty: number;
}

/** The sender fields every DHT request carries. */
interface SenderFields {
  readonly senderId: string;
  readonly senderAddress: string;
  readonly senderPowNonce: bigint;
}

/**
 * The endpoint the DHT learns the caller at; refuses a claim of someone else's id, or of an id
 * without its proof of work, or of an address this node should not dial for the caller
 * (claimed-address.ts; `network`, the caller's, is read off its connection).
 */
function senderEndpoint(peerId: string, sender: SenderFields, network: string, powDifficulty: number): string {
  const nonce = sender.senderPowNonce;
  if (!hasProofOfWork(peerId, nonce, powDifficulty)) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_PERMISSION_DENIED,
      `DHT sender_pow_nonce ${nonce} is no proof of work of ${powDifficulty} bits on the calling node ${shortId(peerId)} (a node from before DHT ids cost work sends none)`,
    );
  }
  const own = dhtIdOfNode(peerId, nonce);
  if (sender.senderId !== own) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_PERMISSION_DENIED,
      `DHT sender_id '${sender.senderId.slice(0, QUOTED_CLAIM_CHARS)}' is not the DHT id of the calling node ${shortId(peerId)} (with its nonce, ${own})`,
    );
  }
  const address = parseHostPort(sender.senderAddress);
  if (!address || address.port === 0)
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `DHT sender_address must be host:port with a port > 0, got '${sender.senderAddress.slice(0, 300)}'`);
  const problem = claimedHostProblem(address.host, network);
  if (problem !== undefined) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `DHT sender_address '${sender.senderAddress.slice(0, 300)}' is refused: ${problem}`);
  const endpoint = dhtEndpoint(peerId, address, nonce);
  // Every reply listing a longer endpoint would be refused whole by whoever asked (the wire check).
  if (endpoint.length > MAX_ENDPOINT_CHARS) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      `DHT sender_address is too long: with the node id and nonce, a DHT endpoint is at most ${MAX_ENDPOINT_CHARS} characters, this one ${endpoint.length}`,
    );
  }
  return endpoint;
}

export function createDhtInbound(opts: DhtInboundOptions): DhtInbound {
  const { powDifficulty } = opts;
  const slot = createDhtHandlerSlot();
  const serving = slot.serving;

  const peerHandlers: DhtPeerHandlers = {
    dhtPing: async ({ peerId, network, request }) => {
      const from = senderEndpoint(peerId, request, network, powDifficulty);
      const reply = await serving().ping(from, checkPingRequest({ id: request.senderId }), network);
      return { remoteId: reply.remoteId };
    },
    dhtStore: async ({ peerId, network, request }) => {
      const from = senderEndpoint(peerId, request, network, powDifficulty);
      const reply = await serving().store(from, checkStoreRequest({ id: request.senderId, key: request.key, value: request.value }), network);
      return { stored: reply.stored, refusal: reply.refusal };
    },
    dhtFindNode: async ({ peerId, network, request }) => {
      const from = senderEndpoint(peerId, request, network, powDifficulty);
      const reply = await serving().findNode(from, checkFindNodeRequest({ id: request.senderId, targetId: request.targetId }), network);
      return { contacts: reply.contacts.map((c) => ({ id: c.id, endpoint: c.endpoint })) };
    },
    dhtFindValue: async ({ peerId, network, request }) => {
      const from = senderEndpoint(peerId, request, network, powDifficulty);
      const reply = await serving().findValue(
        from,
        checkFindValueRequest({ id: request.senderId, targetId: request.targetId, key: request.key, paged: request.paged, after: request.after }),
        network,
      );
      return findValueReplyOf(reply);
    },
  };

  return {
    peerHandlers,
    listen: slot.listen,
    close: slot.close,
  };
}
