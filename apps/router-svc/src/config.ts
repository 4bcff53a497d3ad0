import { Env, intVar, loadEnv, SERVICE_VARS, ServiceConfig, toServiceConfig } from '@swarm/config';

export const DEFAULT_TASK_TIMEOUT_MS = 30_000;
export const MAX_TASK_TIMEOUT_MS = 600_000;
/** Matches the node's nats-server max_payload (8 MiB): a 512×512 f32 matmul is 2 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;

export interface RouterConfig extends ServiceConfig {
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly maxAttempts: number;
  readonly maxRequestBytes: number;
  readonly maxElements: number;
}

export function loadRouterConfig(env: Env): RouterConfig {
  const v = loadEnv(env, {
    ...SERVICE_VARS,
    SWARM_TASK_TIMEOUT_MS: intVar({ default: DEFAULT_TASK_TIMEOUT_MS, min: 100, max: MAX_TASK_TIMEOUT_MS }),
    SWARM_MAX_ATTEMPTS: intVar({ default: 3, min: 1, max: 10 }),
    SWARM_MAX_REQUEST_BYTES: intVar({ default: DEFAULT_MAX_REQUEST_BYTES, min: 1024, max: 64 * 1024 * 1024 }),
    SWARM_MAX_ELEMENTS: intVar({ default: 4_194_304, min: 1, max: 16_777_216 }),
  });
  return Object.freeze({
    ...toServiceConfig(v),
    defaultTimeoutMs: v.SWARM_TASK_TIMEOUT_MS,
    maxTimeoutMs: MAX_TASK_TIMEOUT_MS,
    maxAttempts: v.SWARM_MAX_ATTEMPTS,
    maxRequestBytes: v.SWARM_MAX_REQUEST_BYTES,
    maxElements: v.SWARM_MAX_ELEMENTS,
  });
}
