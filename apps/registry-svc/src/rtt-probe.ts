/**
 * Round-trip times to remote providers: one DHT ping through both gateways, timed on the monotonic
 * stopwatch. A measurement is reused for a while (a lookup per task must not ping every provider
 * each time), and so is a failure, more briefly: a provider that does not answer is likely dead,
 * and waiting out its timeout on every lookup would slow every answer. Probes run in parallel,
 * a bounded number at a time, each with a short timeout.
 */
import type { Stopwatch } from '@swarm/determinism';
import { RecencyMap } from '@swarm/recency-map';

/** A measurement is reused this long. */
export const RTT_FRESH_MS = 30_000;
/** A failed probe marks the node unreachable this long. */
export const RTT_FAILURE_FRESH_MS = 5_000;
/** A ping through both gateways takes milliseconds on a LAN; past this the provider counts as unreachable. */
export const RTT_PROBE_TIMEOUT_MS = 500;
export const RTT_PROBES_IN_PARALLEL = 8;
/** Nodes whose measurement is kept; the oldest is dropped beyond it. */
export const MAX_RTT_ENTRIES = 4_096;

export interface RttProbeDeps {
  /** Resolves when `endpoint` answers a ping within `timeoutMs`, rejects otherwise. */
  ping(endpoint: string, timeoutMs: number): Promise<unknown>;
  readonly stopwatch: Stopwatch;
}

export interface RttProbe {
  /** Round trip per node id (undefined: unreachable); measures whatever is not fresh. */
  measure(targets: readonly { readonly nodeId: string; readonly endpoint: string }[]): Promise<Map<string, number | undefined>>;
  /** The last successful measurement to `nodeId`, if still fresh. */
  latest(nodeId: string): number | undefined;
}

interface Entry {
  readonly endpoint: string;
  /** undefined: the probe failed. */
  readonly rttMs: number | undefined;
  readonly atMs: number;
}

export function createRttProbe(deps: RttProbeDeps): RttProbe {
  const { stopwatch } = deps;
  /** The least recently remembered forgotten first. */
  const entries = new RecencyMap<string, Entry>(MAX_RTT_ENTRIES);
  const inFlight = new Map<string, Promise<number | undefined>>();

  function fresh(nodeId: string, endpoint?: string): Entry | undefined {
    const e = entries.get(nodeId);
    if (!e || (endpoint !== undefined && e.endpoint !== endpoint)) return undefined;
    const age = stopwatch.now() - e.atMs;
    return age < (e.rttMs === undefined ? RTT_FAILURE_FRESH_MS : RTT_FRESH_MS) ? e : undefined;
  }

  function remember(nodeId: string, entry: Entry): void {
    entries.set(nodeId, entry);
  }

  function probe(nodeId: string, endpoint: string): Promise<number | undefined> {
    const running = inFlight.get(nodeId);
    if (running) return running;
    const started = stopwatch.now();
    const p = deps.ping(endpoint, RTT_PROBE_TIMEOUT_MS).then(
      () => stopwatch.now() - started,
      () => undefined,
    );
    const settled = p.then((rttMs) => {
      remember(nodeId, { endpoint, rttMs, atMs: stopwatch.now() });
      inFlight.delete(nodeId);
      return rttMs;
    });
    inFlight.set(nodeId, settled);
    return settled;
  }

  return {
    async measure(targets) {
      const out = new Map<string, number | undefined>();
      const todo: { nodeId: string; endpoint: string }[] = [];
      for (const t of targets) {
        const e = fresh(t.nodeId, t.endpoint);
        if (e) out.set(t.nodeId, e.rttMs);
        else todo.push(t);
      }
      let next = 0;
      const worker = async () => {
        while (next < todo.length) {
          const t = todo[next++];
          out.set(t.nodeId, await probe(t.nodeId, t.endpoint));
        }
      };
      await Promise.all(Array.from({ length: Math.min(RTT_PROBES_IN_PARALLEL, todo.length) }, worker));
      return out;
    },
    latest: (nodeId) => fresh(nodeId)?.rttMs,
  };
}
