/**
 * Whether a peer asking this node to run a task is a node of the swarm: one whose signed record is
 * on the DHT under its own node key (registry-svc answers RegistryNodeRecord from the DHT). Holding
 * a node key proves only an identity; a record costs its proof of work and says where the node is,
 * so only nodes that joined the swarm may spend this node's executors. A found record is kept for
 * a while (never past its expiry) and concurrent tasks of one peer share one question, so a burst
 * of tasks costs one bus round trip; misses are not kept here (the registry keeps them briefly), so
 * a peer that has just published gets in on its next try.
 * A question about a peer not known is a DHT lookup (a dozen peer calls, and dials of whatever
 * contacts they list), asked for by a task from any key pair, which costs its maker nothing: so
 * questions are budgeted per peer and per network the calls come from (LOOKUP_LIMITS, peer-budgets.ts);
 * past it the task is refused OVERLOADED with when to try again. 300 tasks from throwaway keys in
 * 40 s had one node make 326 lookups.
 */
import type { BusClient } from '@swarm/bus';
import { ErrorCode, isSwarmError, RegistryNodeRecord, SwarmError } from '@swarm/contracts';
import type { Stopwatch, WallClock } from '@swarm/determinism';
import { shortId } from '@swarm/gateway';
import type { TraceContext } from '@swarm/telemetry';
import type { PeerBudgetLimits } from './peer-budgets';
import { createPeerBudgets } from './peer-budgets';
import type { PeerCache } from './peer-cache';
import { createPeerCache } from './peer-cache';

/** A found record is trusted this long without asking again (and never past its expiry). */
export const SUBMITTER_RECORD_FRESH_MS = 30_000;
/** The registry's DHT lookup gives up within this (registry-svc NODE_LOOKUP_BUDGET_MS is 3 s). */
export const NODE_RECORD_TIMEOUT_MS = 3_500;
/** Peers whose record is kept; the oldest is dropped beyond it. */
export const MAX_CACHED_SUBMITTERS = 1_024;
/**
 * Questions about peers not known (a record expiring is asked about again every SUBMITTER_RECORD_FRESH_MS):
 * per peer, enough to retry a miss now and then; per network, a hundred active peers on one /24.
 */
export const LOOKUP_LIMITS: PeerBudgetLimits = Object.freeze({
  perPeer: { perSecond: 0.5, burst: 3 },
  perNetwork: { perSecond: 4, burst: 16 },
  maxKeys: 4_096,
});

export interface SubmitterRecords {
  /**
   * Resolves when `peerId` has a valid record on the DHT; PERMISSION_DENIED when it has none,
   * UNAVAILABLE when this node's registry cannot tell (the submitter tries another provider).
   */
  require(peerId: string, network: string, trace?: TraceContext): Promise<void>;
}

interface Known {
  readonly atMs: number;
  readonly expiresAtMs: number;
}

export function createSubmitterRecords(bus: BusClient, clock: WallClock, stopwatch: Stopwatch, limits: PeerBudgetLimits = LOOKUP_LIMITS): SubmitterRecords {
  const lookups = createPeerBudgets(limits, stopwatch);
  const cache: PeerCache<Known, boolean> = createPeerCache(MAX_CACHED_SUBMITTERS, async (peerId, trace) => {
    let answer;
    try {
      answer = await bus.request(RegistryNodeRecord, { nodeId: peerId }, { timeoutMs: NODE_RECORD_TIMEOUT_MS, trace });
    } catch (err) {
      if (isSwarmError(err, ErrorCode.ERROR_CODE_OVERLOADED)) throw err;
      const why = isSwarmError(err) ? err.message.slice(0, 200) : 'no answer';
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `this node cannot check the record of node ${shortId(peerId)} now: ${why}`, true, { cause: err });
    }
    if (!answer.found) return false;
    cache.put(peerId, { atMs: stopwatch.now(), expiresAtMs: Number(answer.expiresAtMs) });
    return true;
  });

  return {
    async require(peerId, network, trace) {
      const held = cache.get(peerId);
      if (held && stopwatch.now() - held.atMs < SUBMITTER_RECORD_FRESH_MS && held.expiresAtMs > clock.now()) return;
      if (held) cache.delete(peerId);
      // Only strangers are budgeted: a node whose record was found before is asked about again for free
      // (a hundred active peers behind one address are looked up again every SUBMITTER_RECORD_FRESH_MS).
      const waitMs = held || cache.pending(peerId) ? 0 : lookups.take(peerId, network);
      if (waitMs > 0) {
        throw new SwarmError(
          ErrorCode.ERROR_CODE_OVERLOADED,
          `this node looks up the records of nodes it does not know only so often, for your node and for your network; retry in ${Math.ceil(waitMs)} ms`,
          true,
          { retryAfterMs: Math.ceil(waitMs) },
        );
      }
      if (!(await cache.asking(peerId, trace))) {
        throw new SwarmError(ErrorCode.ERROR_CODE_PERMISSION_DENIED, `node ${shortId(peerId)} has no valid record on the DHT: only nodes of the swarm may submit tasks here`);
      }
    },
  };
}
