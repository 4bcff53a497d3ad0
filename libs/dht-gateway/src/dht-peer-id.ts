/**
 * Node ids and DHT ids. A node id is the hex SHA-256 of the node's Ed25519 key (256 bits); the DHT
 * (kademlia-dht) places nodes by 160-bit ids. A node's DHT id is the first 20 bytes of
 * sha256(DHT_ID_DOMAIN ‖ node id ‖ its proof-of-work nonce), the nonce being a proof of work on the
 * node id (@swarm/records, docs/records.md): each DHT id costs a proof of work *after* the key is
 * chosen, so placing an identity next to a given key (to eclipse it) costs 2^bits proofs of work for
 * `bits` shared leading bits, not 2^bits key hashes and one proof (S/Kademlia's id puzzle). A prefix
 * of a SHA-256 output is as uniform as the whole, so XOR distances behave.
 *
 * A node's DHT endpoint is `<node id>:<nonce>@host:port`: dialling it pins the node id (the
 * gateway's peer address without the nonce), and the nonce lets anyone recompute the DHT id with two
 * hashes and check the proof with one.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { WireContact } from '@swarm/dht';
import { ID_BYTES } from '@swarm/dht';
import type { HostPort, PeerAddress } from '@swarm/gateway';
import { formatHostPort, NODE_ID_PATTERN, parsePeerAddress, shortId } from '@swarm/gateway';
import { hasProofOfWork } from '@swarm/records';

/** Separates DHT ids from every other hash over a node id and nonce (POW_DOMAIN's among them). */
export const DHT_ID_DOMAIN = 'swarm-dht-id-v1';
const DOMAIN_BYTES = new TextEncoder().encode(DHT_ID_DOMAIN);
const MAX_NONCE = 2n ** 64n - 1n;
/** `<node id>:<nonce, decimal uint64>@` before the host:port. */
const ENDPOINT_HEAD = /^([0-9a-f]{64}):(0|[1-9][0-9]{0,19})@/;

/** A peer as a DHT endpoint names it: its peer address and its proof-of-work nonce. */
export interface DhtPeer extends PeerAddress {
  readonly powNonce: bigint;
}

/** The DHT id of a node with this proof-of-work nonce (40 hex characters); checks the shapes, not the proof. */
export function dhtIdOfNode(nodeId: string, powNonce: bigint): string {
  if (!NODE_ID_PATTERN.test(nodeId)) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `a node id is 64 lower-case hex characters, got '${nodeId.slice(0, 80)}'`);
  if (typeof powNonce !== 'bigint' || powNonce < 0n || powNonce > MAX_NONCE) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'a proof-of-work nonce is a uint64');
  const nonceBytes = new Uint8Array(8);
  new DataView(nonceBytes.buffer).setBigUint64(0, powNonce);
  return createHash('sha256').update(DOMAIN_BYTES).update(Buffer.from(nodeId, 'hex')).update(nonceBytes).digest().subarray(0, ID_BYTES).toString('hex');
}

/** `<node id>:<nonce>@host:port`: where the DHT reaches a node through its gateway. */
export function dhtEndpoint(nodeId: string, address: HostPort, powNonce: bigint): string {
  return `${nodeId}:${powNonce}@${formatHostPort(address)}`;
}

/** The peer behind a DHT endpoint; INVALID_ARGUMENT when it is not `<node id>:<nonce>@host:port`. */
export function peerOfDhtEndpoint(endpoint: string): DhtPeer {
  const head = ENDPOINT_HEAD.exec(endpoint);
  const nonce = head ? BigInt(head[2]) : undefined;
  const peer = head && nonce !== undefined && nonce <= MAX_NONCE ? parsePeerAddress(`${head[1]}@${endpoint.slice(head[0].length)}`) : undefined;
  if (!peer || nonce === undefined) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `a DHT endpoint over the gateways is <node id>:<proof-of-work nonce>@host:port, got '${endpoint.slice(0, 300)}'`);
  }
  return Object.freeze({ ...peer, powNonce: nonce });
}

/** A DHT reply that breaks the rules; the caller treats that contact as unreachable. */
export function invalidDhtReply(what: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `DHT reply: ${what}`);
}

/**
 * Each contact in a reply sits at an endpoint whose node id and nonce give the contact's id, the
 * nonce a proof of work of `powDifficulty` bits: a peer cannot plant another node's id at an address
 * it chose (dialling the address pins that node id), nor list an identity whose DHT id cost no work.
 */
export function checkContactBindings(contacts: readonly WireContact[], powDifficulty: number): void {
  for (const c of contacts) {
    const peer = peerOfDhtEndpoint(c.endpoint);
    if (dhtIdOfNode(peer.nodeId, peer.powNonce) !== c.id) throw invalidDhtReply(`contact ${c.id} is listed at the endpoint of node ${shortId(peer.nodeId)}, whose DHT id differs`);
    if (!hasProofOfWork(peer.nodeId, peer.powNonce, powDifficulty)) throw invalidDhtReply(`contact ${c.id} carries no proof of work of ${powDifficulty} bits`);
  }
}
