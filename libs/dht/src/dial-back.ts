/**
 * A peer that sends a request names the endpoint it says it listens at. Believing that claim would
 * let anyone plant contacts at made-up addresses (or at a victim's) in every routing table it
 * reaches. So a contact learnt from a request enters the table only after this node dialled the
 * claimed endpoint itself and got the claimed id back (over the gateways the dial is pinned to that
 * id by TLS). Contacts learnt by dialling them (lookups, stores) are proven already and skip this.
 *
 * Dialling on a stranger's word is itself a lever (reflection), so it is bounded: at most
 * `maxInFlight` dial-backs at once and `maxPerSecond` a second (more claims are dropped; a genuine
 * peer is learnt on a later request), one at a time per endpoint, and an endpoint that failed is
 * not dialled again for `failureCooldownMs` (by the endpoint as written: the gateway takes each
 * address in one spelling only, libs/dht-gateway claimed-address.ts). Claims from one network (as
 * the transport saw the request come) hold at most `maxInFlightPerNetwork` of the dial-backs at
 * once: tarpit addresses claimed from one network kept all 8 busy, and newcomers unlearnt. Claims
 * of one host (as the transport reads it off the endpoint: `hostOf`) start at most
 * `maxPerHostPerSecond` dial-backs a second, whatever the port: the cooldown is per endpoint as
 * written, so claims of a victim's every port had this node dial it at the full 20 a second.
 */
import type { WallClock } from '@swarm/determinism';
import { RecencyMap } from '@swarm/recency-map';

export interface DialBackLimits {
  readonly maxInFlight: number;
  /** Of those, claims from one network (a claim whose transport names none is not counted so). */
  readonly maxInFlightPerNetwork: number;
  /** Dial-backs started a second, in bursts of as many: without it, claims of ever new endpoints (cheap ids, or any port of one host) were dialled as fast as they came. */
  readonly maxPerSecond: number;
  readonly failureCooldownMs: number;
  /** Failed endpoints remembered for the cooldown, and hosts for their rate (oldest forgotten first past this). */
  readonly maxRemembered: number;
  /** Dial-backs started a second to one host (any of its ports), in bursts of as many. */
  readonly maxPerHostPerSecond: number;
}

export const DEFAULT_DIAL_BACK_LIMITS: DialBackLimits = Object.freeze({
  maxInFlight: 8,
  maxInFlightPerNetwork: 4,
  maxPerSecond: 20,
  failureCooldownMs: 5_000,
  maxRemembered: 4_096,
  maxPerHostPerSecond: 2,
});

/**
 * The host a claim of `endpoint` from `network` counts against, which claims share a rate by (the
 * transport may count a host's claims from its own network apart, so that strangers claiming its
 * other ports do not use up its own claims' rate: helper-166); undefined for none, an endpoint with
 * no host worth a rate (the memory network's names, this machine's loopback).
 */
export type HostOfEndpoint = (endpoint: string, network: string | undefined) => string | undefined;

export interface DialBackCounts {
  readonly verified: number;
  readonly refused: number;
  /** Claims not dialled: too many in flight, already in flight, or cooling down after a failure. */
  readonly dropped: number;
}

export interface DialBack {
  /** Dials `endpoint` (unless bounded out), claimed from `network`, and calls `admit` once it answered as `idHex`. */
  claim(idHex: string, endpoint: string, network: string | undefined, admit: () => void): void;
  counts(): DialBackCounts;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was counted. */
  at: number;
}

/** Resolves true when `endpoint` answered a ping with `idHex`. */
export type PingAs = (idHex: string, endpoint: string) => Promise<boolean>;

export function createDialBack(pingAs: PingAs, clock: WallClock, limits: DialBackLimits = DEFAULT_DIAL_BACK_LIMITS, hostOf: HostOfEndpoint = () => undefined): DialBack {
  const inFlight = new Set<string>();
  /** Dial-backs in flight by the network their claim came from. */
  const byNetwork = new Map<string, number>();
  /** Endpoint -> when its dial-back failed, the least recently failed forgotten first. */
  const failedAt = new RecencyMap<string, number>(limits.maxRemembered);
  let verified = 0;
  let refused = 0;
  let dropped = 0;
  /** Dial-backs that may start now (a token bucket of maxPerSecond, refilled by the clock). */
  const all: Bucket = { tokens: limits.maxPerSecond, at: clock.now() };
  /**
   * Each host's bucket of maxPerHostPerSecond, the least recently dialled back forgotten first.
   * Only a dial-back started touches it: claims dropped for any reason neither add a host nor push
   * one out (rev167: a flood of them reset a victim's empty bucket).
   */
  const hosts = new RecencyMap<string, Bucket>(limits.maxRemembered);

  /**
   * `bucket`'s tokens now at `rate` a second (never above `rate`): a host not remembered has its full
   * rate. A wall clock set back (an NTP step, a resumed VM) is read as no time passed: the bucket
   * refills from then on, rather than staying empty for as long as the clock went back (helper-169).
   */
  function refilled(bucket: Bucket | undefined, rate: number): number {
    if (bucket === undefined) return rate;
    const now = clock.now();
    if (now < bucket.at) bucket.at = now;
    return Math.min(rate, bucket.tokens + ((now - bucket.at) * rate) / 1_000);
  }

  function takeHostToken(host: string): void {
    const tokens = refilled(hosts.get(host), limits.maxPerHostPerSecond) - 1;
    hosts.set(host, { tokens, at: clock.now() });
  }

  function coolingDown(endpoint: string): boolean {
    const at = failedAt.get(endpoint);
    if (at === undefined) return false;
    const now = clock.now();
    // A wall clock set back: the cooldown counts from now, not for as long as the clock went back (helper-172).
    if (now < at) failedAt.set(endpoint, now);
    if (now - Math.min(at, now) < limits.failureCooldownMs) return true;
    failedAt.delete(endpoint);
    return false;
  }

  function remember(endpoint: string): void {
    failedAt.set(endpoint, clock.now());
  }

  return {
    claim(idHex, endpoint, network, admit) {
      const fromNetwork = network === undefined ? 0 : (byNetwork.get(network) ?? 0);
      const host = hostOf(endpoint, network);
      if (
        inFlight.size >= limits.maxInFlight ||
        fromNetwork >= limits.maxInFlightPerNetwork ||
        inFlight.has(endpoint) ||
        coolingDown(endpoint) ||
        (host !== undefined && refilled(hosts.get(host), limits.maxPerHostPerSecond) < 1) ||
        refilled(all, limits.maxPerSecond) < 1
      ) {
        dropped++;
        return;
      }
      all.tokens = refilled(all, limits.maxPerSecond) - 1;
      all.at = clock.now();
      if (host !== undefined) takeHostToken(host);
      inFlight.add(endpoint);
      if (network !== undefined) byNetwork.set(network, fromNetwork + 1);
      void pingAs(idHex, endpoint)
        .catch(() => false)
        .then((answered) => {
          inFlight.delete(endpoint);
          if (network !== undefined) {
            const left = (byNetwork.get(network) ?? 1) - 1;
            if (left > 0) byNetwork.set(network, left);
            else byNetwork.delete(network);
          }
          if (!answered) {
            refused++;
            remember(endpoint);
            return;
          }
          verified++;
          admit();
        });
    },
    counts: () => ({ verified, refused, dropped }),
  };
}
