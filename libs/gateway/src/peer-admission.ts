/**
 * Per-peer admission of calls: at most `maxInflight` unfinished calls and a token bucket of
 * `ratePerSecond` (burst `burst`) per node id, so one peer's flood is refused while every other
 * peer is still served. State lives while the peer has a connection; a peer that reconnects to
 * reset its bucket pays a TLS handshake for each `burst` calls.
 *
 * A peer's call may also ask to be recorded (a sampled W3C trace context). This node honours that
 * at most `recordedPerSecond` (burst `recordedBurst`) times a second per peer: its sampled traces
 * still join across nodes, but a peer cannot make this node record and export spans for every
 * call it sends.
 *
 * Calls come in lanes (CallLane), each with its own calls in flight and bucket: the receipts and
 * voids a peer sends to pay this node must not queue behind that peer's own flood of tasks. A peer
 * whose tasks were refused as fast as it sent them had its payments refused with them, this node
 * then refused its tasks as unpaid, and the two never got out of it.
 */
import type { Stopwatch } from '@swarm/determinism';
import type { RateLimiter } from '@swarm/rate-limit';
import { createRateLimiter } from '@swarm/rate-limit';

export interface PeerLimits {
  readonly maxInflight: number;
  readonly ratePerSecond: number;
  readonly burst: number;
  /** Calls a second a peer may have recorded (default RECORDED_CALLS_PER_SECOND), and their burst (RECORDED_CALLS_BURST). */
  readonly recordedPerSecond?: number;
  readonly recordedBurst?: number;
}

/** `ledger`: the calls that pay this node (DeliverReceipts, VoidReceipts); `calls`: the rest. */
export type CallLane = 'calls' | 'ledger';

/**
 * The ledger lane's limits per peer (a host's: twice these). Small: an honest payer's outbox sends a
 * payee at most 2 calls at once, 64 receipts each, so 10 a second carry 640 receipts; each item
 * costs signature checks, so the lane does not double what a peer's calls may cost this node.
 */
export const LEDGER_LANE_LIMITS = Object.freeze({ maxInflight: 4, ratePerSecond: 10, burst: 20 });

/** A bucket and calls in flight for each lane. */
export interface LaneState {
  readonly inflight: Record<CallLane, number>;
  readonly limiters: Readonly<Record<CallLane, RateLimiter>>;
}

/** A lane's limits: `limits` for calls, LEDGER_LANE_LIMITS times `scale` (a host's: 2) for the ledger. */
export function laneLimits(
  lane: CallLane,
  limits: Pick<PeerLimits, 'maxInflight' | 'ratePerSecond' | 'burst'>,
  scale: number,
): { maxInflight: number; perSecond: number; burst: number } {
  const l = lane === 'ledger' ? LEDGER_LANE_LIMITS : limits;
  const times = lane === 'ledger' ? scale : 1;
  return { maxInflight: l.maxInflight * times, perSecond: l.ratePerSecond * times, burst: l.burst * times };
}

/** What a lane's refusals call its calls. */
export const LANE_CALLS: Readonly<Record<CallLane, string>> = { calls: 'calls', ledger: 'receipt and void calls' };

export function laneState(limits: Pick<PeerLimits, 'maxInflight' | 'ratePerSecond' | 'burst'>, scale: number, stopwatch: Stopwatch): LaneState {
  return {
    inflight: { calls: 0, ledger: 0 },
    limiters: { calls: createRateLimiter(laneLimits('calls', limits, scale), stopwatch), ledger: createRateLimiter(laneLimits('ledger', limits, scale), stopwatch) },
  };
}

export const inflightIn = (state: LaneState): number => state.inflight.calls + state.inflight.ledger;

export const RECORDED_CALLS_PER_SECOND = 10;
export const RECORDED_CALLS_BURST = 50;

export type Admission = { readonly admitted: true; release(): void } | { readonly admitted: false; readonly reason: string; readonly retryAfterMs: number };

export interface PeerAdmission {
  connected(peerId: string): void;
  disconnected(peerId: string): void;
  /** A call in `lane` (default `calls`). */
  admit(peerId: string, lane?: CallLane): Admission;
  /** Whether this peer's call that asks to be recorded may be (one token of its recording bucket). */
  mayRecord(peerId: string): boolean;
  /** Peers with at least one open connection. */
  peerCount(): number;
}

interface PeerState extends LaneState {
  connections: number;
  readonly recording: RateLimiter;
}

export function createPeerAdmission(limits: PeerLimits, stopwatch: Stopwatch): PeerAdmission {
  const peers = new Map<string, PeerState>();
  const forget = (peerId: string, state: PeerState) => {
    if (state.connections === 0 && inflightIn(state) === 0) peers.delete(peerId);
  };
  return {
    connected(peerId) {
      const state = peers.get(peerId) ?? {
        connections: 0,
        ...laneState(limits, 1, stopwatch),
        recording: createRateLimiter({ perSecond: limits.recordedPerSecond ?? RECORDED_CALLS_PER_SECOND, burst: limits.recordedBurst ?? RECORDED_CALLS_BURST }, stopwatch),
      };
      state.connections += 1;
      peers.set(peerId, state);
    },
    disconnected(peerId) {
      const state = peers.get(peerId);
      if (!state) return;
      state.connections = Math.max(0, state.connections - 1);
      forget(peerId, state);
    },
    admit(peerId, lane = 'calls') {
      const state = peers.get(peerId);
      if (!state) return { admitted: false, reason: 'peer has no authenticated connection', retryAfterMs: 0 };
      const what = LANE_CALLS[lane];
      const lim = laneLimits(lane, limits, 1);
      if (state.inflight[lane] >= lim.maxInflight) {
        return { admitted: false, reason: `peer has ${state.inflight[lane]} ${what} in flight (limit ${lim.maxInflight} per peer)`, retryAfterMs: 0 };
      }
      const limiter = state.limiters[lane];
      if (!limiter.take()) {
        const retryAfterMs = limiter.waitMs();
        return { admitted: false, reason: `peer exceeded ${lim.perSecond} ${what}/s (burst ${lim.burst}); retry in ${retryAfterMs} ms`, retryAfterMs };
      }
      state.inflight[lane] += 1;
      let released = false;
      return {
        admitted: true,
        release() {
          if (released) return;
          released = true;
          state.inflight[lane] -= 1;
          forget(peerId, state);
        },
      };
    },
    mayRecord: (peerId) => peers.get(peerId)?.recording.take() ?? false,
    peerCount: () => [...peers.values()].filter((s) => s.connections > 0).length,
  };
}
