/**
 * Budgets for work a peer can ask of this node at almost no cost to itself (the gateway's call
 * limits count calls, not what each call carries): the receipt and void items an honest payer
 * sends only seldom (ledger-batch.ts), each of which costs this node signature checks, a
 * countersignature or a ledger turn, and the bytes of chain pages (chain-relay.ts). A token bucket per caller node id and one per network the
 * calls come from (host-admission.ts networkOf), so that identities made in bulk on one network
 * share one allowance. Pure, timed by a Stopwatch; at most `maxKeys` buckets of each kind, the
 * least recently used forgotten first (it starts full again).
 */
import type { Stopwatch } from '@swarm/determinism';
import type { RateLimits } from '@swarm/rate-limit';
import { createKeyedRateLimiters } from '@swarm/rate-limit';

export interface PeerBudgetLimits {
  readonly perPeer: RateLimits;
  readonly perNetwork: RateLimits;
  /** Buckets held of each kind. */
  readonly maxKeys: number;
}

export interface PeerBudgets {
  readonly limits: PeerBudgetLimits;
  /**
   * Takes `count` tokens (default 1) of `peerId`'s and of `network`'s while each has one left: 0 when
   * taken (a count over what is left leaves them owing), else the ms until both have one (nothing taken).
   */
  take(peerId: string, network: string, count?: number): number;
  /** Adds `count` to what both were charged once the real cost is known (negative: gives some back). */
  charge(peerId: string, network: string, count: number): void;
}

export function createPeerBudgets(limits: PeerBudgetLimits, stopwatch: Stopwatch): PeerBudgets {
  const peers = createKeyedRateLimiters(limits.perPeer, limits.maxKeys, stopwatch);
  const networks = createKeyedRateLimiters(limits.perNetwork, limits.maxKeys, stopwatch);
  return {
    limits,
    take(peerId, network, count = 1) {
      const peer = peers(peerId);
      const net = networks(network);
      // Both or neither: a caller refused by its network's budget keeps its own token.
      const wait = Math.max(peer.waitMs(), net.waitMs());
      if (wait > 0) return wait;
      peer.take(count);
      net.take(count);
      return 0;
    },
    charge(peerId, network, count) {
      peers(peerId).charge(count);
      networks(network).charge(count);
    },
  };
}
