/**
 * The peers this gateway has exchanged authenticated calls with (callers of its DHT methods, peers
 * it sent DHT calls, receipts or chain requests to), for `GatewayPeers` and as the first place to
 * look for a peer's address (peer-resolve.ts). Bounded: past `maxPeers` the peer heard from least
 * recently is forgotten, so a swarm of any size costs a fixed amount of memory. Pure: times are
 * arguments.
 */
import type { PeerInfo } from '@swarm/contracts';
import { RecencyMap } from '@swarm/recency-map';

/** Enough for every contact of a large routing table (160 buckets of 20 would be 3,200; few are full). */
export const DEFAULT_MAX_PEERS = 1_000;

export interface PeerBook {
  /** An authenticated exchange with `nodeId`, whose gateway listens at `address` (host:port). */
  noteSeen(nodeId: string, address: string, nowMs: number): void;
  /** A measured round trip to a peer already noted (ignored for one not in the book). */
  noteRtt(nodeId: string, rttMs: number): void;
  /** The host:port last noted for `nodeId`, or undefined when the book does not hold it. */
  addressOf(nodeId: string): string | undefined;
  /** Closest to `selfId` first (XOR distance of node ids, as the DHT orders contacts). */
  list(selfId: string): PeerInfo[];
  size(): number;
}

interface Entry {
  address: string;
  rttMs: number;
  lastSeenMs: number;
}

export function createPeerBook(maxPeers: number = DEFAULT_MAX_PEERS): PeerBook {
  if (!Number.isSafeInteger(maxPeers) || maxPeers < 1) throw new RangeError(`maxPeers must be a whole number >= 1, got ${maxPeers}`);
  /** The stalest (least recently seen) forgotten first. */
  const peers = new RecencyMap<string, Entry>(maxPeers);
  return {
    noteSeen(nodeId, address, nowMs) {
      const known = peers.get(nodeId);
      peers.set(nodeId, { address, rttMs: known?.rttMs ?? 0, lastSeenMs: nowMs });
    },
    noteRtt(nodeId, rttMs) {
      const known = peers.get(nodeId);
      if (known && Number.isFinite(rttMs) && rttMs >= 0) known.rttMs = rttMs;
    },
    addressOf: (nodeId) => peers.get(nodeId)?.address,
    list(selfId) {
      return [...peers.entries()]
        .map(([nodeId, e]) => ({
          nodeId,
          distance: xorHex(nodeId, selfId),
          info: { nodeId, address: e.address, rttMs: e.rttMs, lastSeenMs: BigInt(Math.max(0, Math.floor(e.lastSeenMs))) },
        }))
        .sort((a, b) => (a.distance < b.distance ? -1 : a.distance > b.distance ? 1 : 0))
        .map((p) => p.info);
    },
    size: () => peers.size,
  };
}

/** XOR of two equal-length hex strings, as hex: compared as strings it orders by distance. */
function xorHex(a: string, b: string): string {
  let out = '';
  for (let i = 0; i < a.length; i++) out += (parseInt(a[i], 16) ^ parseInt(b[i] ?? '0', 16)).toString(16);
  return out;
}
