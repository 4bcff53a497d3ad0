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
 */
import type { Stopwatch } from '@swarm/determinism';
import type { RateLimiter } from '@swarm/pipeline';
import { createRateLimiter } from '@swarm/pipeline';

export interface PeerLimits {
  readonly maxInflight: number;
  readonly ratePerSecond: number;
  readonly burst: number;
  /** Calls a second a peer may have recorded (default RECORDED_CALLS_PER_SECOND), and their burst (RECORDED_CALLS_BURST). */
  readonly recordedPerSecond?: number;
  readonly recordedBurst?: number;
}

export const RECORDED_CALLS_PER_SECOND = 10;
export const RECORDED_CALLS_BURST = 50;

export type Admission = { readonly admitted: true; release(): void } | { readonly admitted: false; readonly reason: string; readonly retryAfterMs: number };

export interface PeerAdmission {
  connected(peerId: string): void;
  disconnected(peerId: string): void;
  admit(peerId: string): Admission;
  /** Whether this peer's call that asks to be recorded may be (one token of its recording bucket). */
  mayRecord(peerId: string): boolean;
  /** Peers with at least one open connection. */
  peerCount(): number;
}

interface PeerState {
  connections: number;
  inflight: number;
  readonly limiter: RateLimiter;
  readonly recording: RateLimiter;
}

export function createPeerAdmission(limits: PeerLimits, stopwatch: Stopwatch): PeerAdmission {
  const peers = new Map<string, PeerState>();
  const forget = (peerId: string, state: PeerState) => {
    if (state.connections === 0 && state.inflight === 0) peers.delete(peerId);
  };
  return {
    connected(peerId) {
      const state = peers.get(peerId) ?? {
        connections: 0,
        inflight: 0,
        limiter: createRateLimiter({ perSecond: limits.ratePerSecond, burst: limits.burst }, stopwatch),
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
    admit(peerId) {
      const state = peers.get(peerId);
      if (!state) return { admitted: false, reason: 'peer has no authenticated connection', retryAfterMs: 0 };
      if (state.inflight >= limits.maxInflight) {
        return { admitted: false, reason: `peer has ${state.inflight} calls in flight (limit ${limits.maxInflight} per peer)`, retryAfterMs: 0 };
      }
      if (!state.limiter.take()) {
        const retryAfterMs = state.limiter.waitMs();
        return { admitted: false, reason: `peer exceeded ${limits.ratePerSecond} calls/s (burst ${limits.burst}); retry in ${retryAfterMs} ms`, retryAfterMs };
      }
      state.inflight += 1;
      let released = false;
      return {
        admitted: true,
        release() {
          if (released) return;
          released = true;
          state.inflight -= 1;
          forget(peerId, state);
        },
      };
    },
    mayRecord: (peerId) => peers.get(peerId)?.recording.take() ?? false,
    peerCount: () => [...peers.values()].filter((s) => s.connections > 0).length,
  };
}
