/**
 * FindNodeRecord: whether a node has a valid record on the DHT, under its own node key
 * (provider-record.ts nodeRecordKey). gateway-svc asks before it runs a peer's task, so a node of
 * the swarm is one that signed and published a record; holding a key is not enough. Answers are
 * kept a while (a found record at most until it expires, a miss briefly, so a node that has just
 * published soon gets in), concurrent asks for one node share one lookup, and a lookup that runs
 * long (dead contacts waiting out their timeouts) answers UNAVAILABLE within the gateway's wait,
 * finishing in the background for the next ask.
 */
import type { FindNodeRecordResponse } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Scheduler, Stopwatch, WallClock } from '@swarm/determinism';
import type { ProvidersResult } from '@swarm/dht';
import { NODE_ID_PATTERN, shortId } from '@swarm/gateway';
import type { Logger } from '@swarm/telemetry';
import { RecencyMap } from '@swarm/recency-map';
import { DEFAULT_DHT_CALL_TIMEOUT_MS } from './bus-dht-transport';
import { nodeRecordKey, nodeRecordOf } from './provider-record';

/** A found record is trusted this long without asking the DHT again (never past its expiry). */
export const FOUND_FRESH_MS = 30_000;
/** A miss is kept this long: a node that has just published waits at most this for its first task. */
export const MISSING_FRESH_MS = 5_000;
/** Node ids whose answer is kept; the oldest is dropped beyond it. */
export const MAX_CACHED_NODES = 1_024;
/** Distinct lookups running at once; more is a flood of new identities, told OVERLOADED. */
export const MAX_CONCURRENT_LOOKUPS = 64;
/**
 * Within the gateway's wait for this answer (gateway-svc submitter-records NODE_RECORD_TIMEOUT_MS),
 * and longer than one DHT call may take: a lookup waits for every contact it asked, so with a
 * shorter budget one silent contact (a peer whose link is down) failed every check of a submitter
 * whose record this node does not hold, and the provider refused tasks it should run.
 */
export const NODE_LOOKUP_BUDGET_MS = DEFAULT_DHT_CALL_TIMEOUT_MS + 500;
/** A caller told OVERLOADED may ask again after about this long. */
const OVERLOADED_RETRY_AFTER_MS = 500;

export interface NodeRecordLookupDeps {
  /** The DHT's verified records under `key` (DhtNode.findProviders). */
  findProviders(key: string): Promise<ProvidersResult>;
  readonly powDifficulty: number;
  readonly clock: WallClock;
  readonly stopwatch: Stopwatch;
  readonly scheduler: Scheduler;
  readonly log: Logger;
}

export interface NodeRecordLookup {
  /**
   * Found: the newest verified, unexpired record of `nodeId`. INVALID_ARGUMENT for an id that is
   * not 64 hex; UNAVAILABLE when the DHT could not be asked (no contact answered, or not in time).
   */
  find(nodeId: string): Promise<FindNodeRecordResponse>;
}

interface Answer {
  readonly atMs: number;
  readonly response: FindNodeRecordResponse;
}

const NOT_FOUND: FindNodeRecordResponse = Object.freeze({ found: false, expiresAtMs: 0n, gatewayAddress: '' });

export function createNodeRecordLookup(deps: NodeRecordLookupDeps): NodeRecordLookup {
  const { clock, stopwatch, scheduler, log } = deps;
  /** The least recently remembered forgotten first. */
  const answers = new RecencyMap<string, Answer>(MAX_CACHED_NODES);
  const inFlight = new Map<string, Promise<FindNodeRecordResponse>>();

  function remember(nodeId: string, response: FindNodeRecordResponse): void {
    answers.set(nodeId, { atMs: stopwatch.now(), response });
  }

  function fresh(nodeId: string): FindNodeRecordResponse | undefined {
    const held = answers.get(nodeId);
    if (!held) return undefined;
    const age = stopwatch.now() - held.atMs;
    const { response } = held;
    if (response.found ? age < FOUND_FRESH_MS && response.expiresAtMs > BigInt(clock.now()) : age < MISSING_FRESH_MS) return response;
    answers.delete(nodeId);
    return undefined;
  }

  async function lookup(nodeId: string): Promise<FindNodeRecordResponse> {
    const result = await deps.findProviders(nodeRecordKey(nodeId));
    const nowMs = clock.now();
    let newest: FindNodeRecordResponse | undefined;
    let newestIssuedAtMs = -1n;
    for (const value of result.values) {
      const record = nodeRecordOf(nodeId, value, nowMs, deps.powDifficulty);
      if (!record || record.issuedAtMs <= newestIssuedAtMs) continue;
      newestIssuedAtMs = record.issuedAtMs;
      newest = { found: true, expiresAtMs: record.expiresAtMs, gatewayAddress: record.gatewayAddress };
    }
    // Nothing found and nobody asked: this says nothing about the node, so it is not kept as a miss.
    if (!newest && result.messages === result.failures) {
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `the DHT lookup of node ${shortId(nodeId)} reached no peer (${result.failures} of ${result.messages} failed)`);
    }
    const response = newest ?? NOT_FOUND;
    remember(nodeId, response);
    return response;
  }

  function running(nodeId: string): Promise<FindNodeRecordResponse> {
    let p = inFlight.get(nodeId);
    if (!p) {
      if (inFlight.size >= MAX_CONCURRENT_LOOKUPS) {
        throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, `${inFlight.size} node record lookups are running (limit ${MAX_CONCURRENT_LOOKUPS})`, true, {
          retryAfterMs: OVERLOADED_RETRY_AFTER_MS,
        });
      }
      p = lookup(nodeId).finally(() => inFlight.delete(nodeId));
      inFlight.set(nodeId, p);
      // A lookup outliving its asker still ends here: its answer is kept for the next one.
      p.catch((err: unknown) => log.debug({ err, nodeId: shortId(nodeId) }, 'node record lookup failed'));
    }
    return p;
  }

  async function within(p: Promise<FindNodeRecordResponse>, nodeId: string): Promise<FindNodeRecordResponse> {
    const timer = new AbortController();
    try {
      const answer = await Promise.race([p, scheduler.sleep(NODE_LOOKUP_BUDGET_MS, timer.signal).then(() => undefined)]);
      if (answer) return answer;
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `the DHT lookup of node ${shortId(nodeId)} did not finish within ${NODE_LOOKUP_BUDGET_MS} ms`);
    } finally {
      timer.abort();
    }
  }

  return {
    async find(nodeId) {
      if (!NODE_ID_PATTERN.test(nodeId)) {
        throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `node_id must be 64 lowercase hex characters, got ${nodeId.length} characters`);
      }
      return fresh(nodeId) ?? (await within(running(nodeId), nodeId));
    },
  };
}
