import type { Env, ServiceConfig } from '@swarm/config';
import { ConfigError, intVar, loadEnv, SERVICE_VARS, toServiceConfig } from '@swarm/config';
import { ATTEMPT_MIN_MS, ATTEMPT_WORK_PER_MS, FOLD_MAX_WORK } from '@swarm/pipeline';

/**
 * An executor acknowledges a dispatch from its event loop on arrival (kernels run in worker
 * threads), so a live one answers in milliseconds; 2 s leaves room for a loaded machine.
 */
export const DEFAULT_ACK_TIMEOUT_MS = 2_000;
import { BUS_MAX_PAYLOAD_BYTES, TASK_DEFAULT_TIMEOUT_MS, TASK_MAX_ELEMENTS, TASK_MAX_TIMEOUT_MS } from '@swarm/contracts';

/**
 * Tasks the router works on at once. On a 2-core node this is about one executor's capacity
 * (2 threads + its default queue of 32), so a flood is refused at the router, before any escrow,
 * rather than escrowed and then refused by a full executor queue.
 */
export const DEFAULT_MAX_INFLIGHT = 32;
/**
 * Request payload the router holds at once. An admitted task keeps its request, sends a copy to
 * the executor and receives a result of similar size, so ~3x this is router heap at the limit
 * (~200 MB); it fits 16 of the largest matmuls (700x700, 3.9 MB) or 8 maximum-size messages.
 */
export const DEFAULT_MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;
/** Threads verifying results off the event loop (0: on it); one keeps up with a 2-core node's executors. */
export const DEFAULT_VERIFY_THREADS = 1;
const MAX_VERIFY_THREADS = 64;
/**
 * How long the router remembers a finished task for status requests and keyed retries. Ten
 * minutes covers a client's retries and any escrow's life (at most 180 s); past it the ledger's
 * escrow answers (without the result).
 */
export const DEFAULT_TASK_RETENTION_MS = 10 * 60_000;
/** Records held at most: ~1 KB each without a result, so ~10 MB. */
export const DEFAULT_TASK_TABLE_MAX = 10_000;
/** Results kept for keyed retries, all together; the oldest go first (their records stay). */
export const DEFAULT_TASK_RESULT_BYTES = 64 * 1024 * 1024;
const MAX_TASK_RETENTION_MS = 24 * 3_600_000;
const MAX_TASK_TABLE = 1_000_000;
const MAX_TASK_RESULT_BYTES = 4 * 1024 * 1024 * 1024;
const MAX_INFLIGHT_LIMIT = 10_000;
const MAX_INFLIGHT_BYTES_LIMIT = 4 * 1024 * 1024 * 1024;

export interface RouterConfig extends ServiceConfig {
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly maxAttempts: number;
  readonly maxRequestBytes: number;
  readonly maxElements: number;
  readonly maxInFlight: number;
  readonly maxInFlightBytes: number;
  readonly verifyThreads: number;
  readonly taskRetentionMs: number;
  readonly taskTableMax: number;
  readonly taskResultBytes: number;
  /** Each dispatch attempt but the last: at most attemptMinMs + work / attemptWorkPerMs. */
  readonly attemptMinMs: number;
  /** How long an executor has to acknowledge a dispatch before the attempt counts as lost. */
  readonly ackTimeoutMs: number;
  readonly attemptWorkPerMs: number;
  /** Tasks of at most this much work run on this node's executors before a charge (RouterLimits.foldMaxWork); 0: never. */
  readonly foldMaxWork: number;
}

export function loadRouterConfig(env: Env): RouterConfig {
  const v = loadEnv(env, {
    ...SERVICE_VARS,
    SWARM_TASK_TIMEOUT_MS: intVar({ default: TASK_DEFAULT_TIMEOUT_MS, min: 100, max: TASK_MAX_TIMEOUT_MS }),
    SWARM_MAX_ATTEMPTS: intVar({ default: 3, min: 1, max: 10 }),
    SWARM_MAX_REQUEST_BYTES: intVar({ default: BUS_MAX_PAYLOAD_BYTES, min: 1024, max: BUS_MAX_PAYLOAD_BYTES }),
    SWARM_MAX_ELEMENTS: intVar({ default: TASK_MAX_ELEMENTS, min: 1, max: TASK_MAX_ELEMENTS }),
    SWARM_ROUTER_MAX_INFLIGHT: intVar({ default: DEFAULT_MAX_INFLIGHT, min: 1, max: MAX_INFLIGHT_LIMIT }),
    SWARM_ROUTER_MAX_INFLIGHT_BYTES: intVar({ default: DEFAULT_MAX_INFLIGHT_BYTES, min: 1024, max: MAX_INFLIGHT_BYTES_LIMIT }),
    SWARM_ROUTER_VERIFY_THREADS: intVar({ default: DEFAULT_VERIFY_THREADS, min: 0, max: MAX_VERIFY_THREADS }),
    SWARM_ROUTER_TASK_RETENTION_MS: intVar({ default: DEFAULT_TASK_RETENTION_MS, min: 1_000, max: MAX_TASK_RETENTION_MS }),
    SWARM_ROUTER_TASK_TABLE_MAX: intVar({ default: DEFAULT_TASK_TABLE_MAX, min: 1, max: MAX_TASK_TABLE }),
    SWARM_ROUTER_TASK_RESULT_BYTES: intVar({ default: DEFAULT_TASK_RESULT_BYTES, min: 0, max: MAX_TASK_RESULT_BYTES }),
    SWARM_ROUTER_ATTEMPT_MIN_MS: intVar({ default: ATTEMPT_MIN_MS, min: 100, max: TASK_MAX_TIMEOUT_MS }),
    SWARM_ROUTER_ACK_TIMEOUT_MS: intVar({ default: DEFAULT_ACK_TIMEOUT_MS, min: 50, max: TASK_MAX_TIMEOUT_MS }),
    SWARM_ROUTER_ATTEMPT_WORK_PER_MS: intVar({ default: ATTEMPT_WORK_PER_MS, min: 1, max: 1_000_000_000 }),
    SWARM_ROUTER_FOLD_MAX_WORK: intVar({ default: FOLD_MAX_WORK, min: 0, max: 1_000_000_000 }),
  });
  // Otherwise the largest request the router accepts could never be admitted.
  if (v.SWARM_ROUTER_MAX_INFLIGHT_BYTES < v.SWARM_MAX_REQUEST_BYTES) {
    throw new ConfigError([
      `SWARM_ROUTER_MAX_INFLIGHT_BYTES: expected at least SWARM_MAX_REQUEST_BYTES (${v.SWARM_MAX_REQUEST_BYTES}), got '${v.SWARM_ROUTER_MAX_INFLIGHT_BYTES}'`,
    ]);
  }
  return Object.freeze({
    ...toServiceConfig(v),
    defaultTimeoutMs: v.SWARM_TASK_TIMEOUT_MS,
    maxTimeoutMs: TASK_MAX_TIMEOUT_MS,
    maxAttempts: v.SWARM_MAX_ATTEMPTS,
    maxRequestBytes: v.SWARM_MAX_REQUEST_BYTES,
    maxElements: v.SWARM_MAX_ELEMENTS,
    maxInFlight: v.SWARM_ROUTER_MAX_INFLIGHT,
    maxInFlightBytes: v.SWARM_ROUTER_MAX_INFLIGHT_BYTES,
    verifyThreads: v.SWARM_ROUTER_VERIFY_THREADS,
    taskRetentionMs: v.SWARM_ROUTER_TASK_RETENTION_MS,
    taskTableMax: v.SWARM_ROUTER_TASK_TABLE_MAX,
    taskResultBytes: v.SWARM_ROUTER_TASK_RESULT_BYTES,
    attemptMinMs: v.SWARM_ROUTER_ATTEMPT_MIN_MS,
    ackTimeoutMs: v.SWARM_ROUTER_ACK_TIMEOUT_MS,
    attemptWorkPerMs: v.SWARM_ROUTER_ATTEMPT_WORK_PER_MS,
    foldMaxWork: v.SWARM_ROUTER_FOLD_MAX_WORK,
  });
}
