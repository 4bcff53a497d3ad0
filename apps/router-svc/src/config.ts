import { Env, intVar, loadEnv, SERVICE_VARS, ServiceConfig, toServiceConfig } from '@swarm/config';
import { BUS_MAX_PAYLOAD_BYTES, TASK_DEFAULT_TIMEOUT_MS, TASK_MAX_ELEMENTS, TASK_MAX_TIMEOUT_MS } from '@swarm/contracts';

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
    SWARM_TASK_TIMEOUT_MS: intVar({ default: TASK_DEFAULT_TIMEOUT_MS, min: 100, max: TASK_MAX_TIMEOUT_MS }),
    SWARM_MAX_ATTEMPTS: intVar({ default: 3, min: 1, max: 10 }),
    SWARM_MAX_REQUEST_BYTES: intVar({ default: BUS_MAX_PAYLOAD_BYTES, min: 1024, max: BUS_MAX_PAYLOAD_BYTES }),
    SWARM_MAX_ELEMENTS: intVar({ default: TASK_MAX_ELEMENTS, min: 1, max: TASK_MAX_ELEMENTS }),
  });
  return Object.freeze({
    ...toServiceConfig(v),
    defaultTimeoutMs: v.SWARM_TASK_TIMEOUT_MS,
    maxTimeoutMs: TASK_MAX_TIMEOUT_MS,
    maxAttempts: v.SWARM_MAX_ATTEMPTS,
    maxRequestBytes: v.SWARM_MAX_REQUEST_BYTES,
    maxElements: v.SWARM_MAX_ELEMENTS,
  });
}
