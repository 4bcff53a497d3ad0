/**
 * Node ids and DHT ids. A node id is the hex SHA-256 of the node's Ed25519 key (256 bits); the DHT
 * (kademlia-dht) places nodes by 160-bit ids. A node's DHT id is the first 20 bytes of its node id:
 * a prefix of a SHA-256 output is as uniform as the whole, so XOR distances behave, and an id costs
 * as much to choose as the node key behind it (the proof of work on node ids covers it too). A
 * node's DHT endpoint is its peer address, `<node id>@host:port`, so whoever dials a contact pins the
 * key the contact's id came from.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { ID_BYTES } from '@swarm/dht';
import type { HostPort, PeerAddress } from '@swarm/gateway';
import type { WireContact } from '@swarm/dht';
import { formatHostPort, NODE_ID_PATTERN, parsePeerAddress, shortId } from '@swarm/gateway';

const DHT_ID_HEX_CHARS = ID_BYTES * 2;

/** The DHT id of a node: the first 20 bytes (40 hex characters) of its node id. */
export function dhtIdOfNode(nodeId: string): string {
  if (!NODE_ID_PATTERN.test(nodeId)) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `a node id is 64 lower-case hex characters, got '${nodeId.slice(0, 80)}'`);
  return nodeId.slice(0, DHT_ID_HEX_CHARS);
}

/** `<node id>@host:port`: where the DHT reaches a node through its gateway. */
export function dhtEndpoint(nodeId: string, address: HostPort): string {
  return `${nodeId}@${formatHostPort(address)}`;
}

/** The peer behind a DHT endpoint; INVALID_ARGUMENT when it is not `<node id>@host:port`. */
export function peerOfDhtEndpoint(endpoint: string): PeerAddress {
  const peer = parsePeerAddress(endpoint);
  if (!peer) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `a DHT endpoint over the gateways is <node id>@host:port, got '${endpoint.slice(0, 300)}'`);
  return peer;
}

/** A DHT reply that breaks the rules; the caller treats that contact as unreachable. */
export function invalidDhtReply(what: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `DHT reply: ${what}`);
}

/**
 * Each contact in a reply sits at a peer address whose node id maps to the contact's id, so a peer
 * cannot plant another node's id at an address it chose (dialling the address pins that node id).
 */
export function checkContactBindings(contacts: readonly WireContact[]): void {
  for (const c of contacts) {
    const peer = peerOfDhtEndpoint(c.endpoint);
    if (dhtIdOfNode(peer.nodeId) !== c.id) throw invalidDhtReply(`contact ${c.id} is listed at the endpoint of node ${shortId(peer.nodeId)}, whose DHT id differs`);
  }
}
