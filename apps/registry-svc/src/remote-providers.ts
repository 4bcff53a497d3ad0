/**
 * Remote providers of a skill: the DHT's verified records, each checked again and turned into a
 * Provider, this node's own record left out (its executors answer for it as the local provider),
 * and those that answer a ping kept, with the round trip measured. The router asks once per task
 * and waits 2 s for the registry, so an answer is reused for a second, and a lookup that runs long
 * (dead contacts waiting out their timeouts) gives way to the last answer while it finishes in the
 * background for the next request.
 */
import type { Provider } from '@swarm/contracts';
import type { Scheduler, Stopwatch, WallClock } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';
import { RecencyMap } from '@swarm/recency-map';
import { providerOfRecord } from './provider-record';
import type { RttProbe } from './rtt-probe';

/** An answer is reused this long: a burst of tasks costs one lookup. */
export const PROVIDERS_FRESH_MS = 1_000;
/** Longest wait for a lookup and its round-trip probes: within the router's 2 s registry timeout, beside the local executor probe. */
export const LOOKUP_BUDGET_MS = 1_500;
/** Skills whose last answer is kept; the oldest is dropped beyond it. */
export const MAX_CACHED_SKILLS = 256;

export interface RemoteProvidersDeps {
  /** The DHT's verified records for `skill`. */
  findProviders(skill: string): Promise<readonly Uint8Array[]>;
  readonly rtt: RttProbe;
  /** This node's id: its own record is not a remote provider. */
  readonly selfNodeId: string;
  readonly powDifficulty: number;
  readonly clock: WallClock;
  readonly stopwatch: Stopwatch;
  readonly scheduler: Scheduler;
  readonly log: Logger;
}

export interface RemoteProviders {
  /** Reachable, unexpired remote providers of `skill`, nearest first. */
  find(skill: string): Promise<Provider[]>;
}

interface Answer {
  readonly atMs: number;
  readonly providers: readonly Provider[];
}

export function createRemoteProviders(deps: RemoteProvidersDeps): RemoteProviders {
  const { clock, stopwatch, scheduler, log } = deps;
  /** The least recently remembered forgotten first. */
  const answers = new RecencyMap<string, Answer>(MAX_CACHED_SKILLS);
  const inFlight = new Map<string, Promise<readonly Provider[] | undefined>>();

  const unexpired = (providers: readonly Provider[]) => {
    const now = BigInt(clock.now());
    return providers.filter((p) => p.expiresAtMs > now);
  };

  function remember(skill: string, providers: readonly Provider[]): void {
    answers.set(skill, { atMs: stopwatch.now(), providers });
  }

  async function lookup(skill: string): Promise<readonly Provider[]> {
    const values = await deps.findProviders(skill);
    const nowMs = clock.now();
    const candidates: Provider[] = [];
    const probes: Array<{ nodeId: string; endpoint: string }> = [];
    for (const value of values) {
      const found = providerOfRecord(skill, value, nowMs, deps.powDifficulty);
      if (!found || found.provider.nodeId === deps.selfNodeId) continue;
      candidates.push(found.provider);
      probes.push({ nodeId: found.provider.nodeId, endpoint: found.probeEndpoint });
    }
    const rtts = await deps.rtt.measure(probes);
    const reachable: Provider[] = [];
    for (const p of candidates) {
      const rttMs = rtts.get(p.nodeId);
      if (rttMs !== undefined) reachable.push({ ...p, rttMs });
    }
    reachable.sort((a, b) => a.rttMs - b.rttMs);
    remember(skill, reachable);
    return reachable;
  }

  function running(skill: string): Promise<readonly Provider[] | undefined> {
    let p = inFlight.get(skill);
    if (!p) {
      p = lookup(skill)
        .catch((err: unknown) => {
          log.debug({ err, skill }, 'provider lookup failed');
          return undefined;
        })
        .finally(() => inFlight.delete(skill));
      inFlight.set(skill, p);
    }
    return p;
  }

  /** `p`'s value, or undefined once `ms` pass first. */
  async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
    const timer = new AbortController();
    try {
      return await Promise.race([p, scheduler.sleep(ms, timer.signal).then(() => undefined)]);
    } finally {
      timer.abort();
    }
  }

  return {
    async find(skill) {
      const last = answers.get(skill);
      if (last && stopwatch.now() - last.atMs < PROVIDERS_FRESH_MS) return unexpired(last.providers);
      const answer = await within(running(skill), LOOKUP_BUDGET_MS);
      return unexpired(answer ?? last?.providers ?? []);
    },
  };
}
