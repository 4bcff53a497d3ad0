/**
 * api-svc settings: where the agents' HTTP API listens, its size caps and its per-token rate.
 * Pure: main.ts passes process.env.
 */
import type { Env, EnvVar, HostPort, ServiceConfig } from '@swarm/config';
import { envVar, intVar, loadEnv, parseHostPort, SERVICE_VARS, toServiceConfig } from '@swarm/config';
import { BUS_MAX_PAYLOAD_BYTES } from '@swarm/contracts';
import { z } from 'zod';
import { DEFAULT_BODY_BUDGET_BYTES, MIN_BODY_BUDGET_BODIES } from './body-budget';

/** Loopback on a port the OS picks: nothing outside the machine reaches a default node's API. */
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:0';
/**
 * A JSON task body: numbers as text take ~10 bytes each, so 8 MiB is ~800k values; larger tensors
 * travel as a protobuf body, whose limit is the bus's (the request goes on as one bus message).
 */
export const DEFAULT_JSON_BODY_BYTES = 8 * 1024 * 1024;
export const PROTOBUF_BODY_BYTES = BUS_MAX_PAYLOAD_BYTES;
/** Requests per second a token may keep up, and the burst it may send at once. */
export const DEFAULT_RATE_PER_SECOND = 20;
export const DEFAULT_BURST = 40;
const MIN_BODY_BYTES = 1024;
const MAX_RATE = 100_000;

export interface ApiHttpConfig {
  readonly listen: HostPort;
  readonly jsonBodyBytes: number;
  readonly protobufBodyBytes: number;
  readonly ratePerSecond: number;
  readonly burst: number;
  /** Request bytes held at once across requests (body-budget.ts); default DEFAULT_BODY_BUDGET_BYTES. */
  readonly bodyBudgetBytes?: number;
  /** Connections open at once, all clients together (@swarm/connection-cap); default DEFAULT_MAX_HTTP_CONNECTIONS. */
  readonly maxConnections?: number;
}

/** Connections the API holds at once: far more than agents use, far fewer than the process's file descriptors. */
export const DEFAULT_MAX_HTTP_CONNECTIONS = 1_024;
/** Fewer would leave no room for an MCP call's own calls to the API beside a few agents. */
const MIN_HTTP_CONNECTIONS = 8;

export interface ApiConfig extends ServiceConfig {
  readonly http: ApiHttpConfig;
}

function listenVar(): EnvVar<HostPort> {
  const schema = z
    .string()
    .refine((s) => parseHostPort(s) !== undefined)
    .optional()
    .transform((s) => parseHostPort(s ?? DEFAULT_HTTP_LISTEN) as HostPort);
  return envVar(schema as z.ZodType<HostPort, string | undefined>, `host:port (IPv4, DNS name or [IPv6]; port 0: any free port) (default ${DEFAULT_HTTP_LISTEN})`);
}

export function loadApiConfig(env: Env): ApiConfig {
  const v = loadEnv(env, {
    ...SERVICE_VARS,
    SWARM_HTTP_LISTEN: listenVar(),
    SWARM_HTTP_JSON_LIMIT_BYTES: intVar({ default: DEFAULT_JSON_BODY_BYTES, min: MIN_BODY_BYTES, max: BUS_MAX_PAYLOAD_BYTES }),
    SWARM_HTTP_RATE_PER_S: intVar({ default: DEFAULT_RATE_PER_SECOND, min: 1, max: MAX_RATE }),
    SWARM_HTTP_BURST: intVar({ default: DEFAULT_BURST, min: 1, max: MAX_RATE }),
    // At least an MCP call's body and its task's, each of the largest kind: any request can be taken when nothing else is held.
    SWARM_HTTP_BODY_BUDGET_BYTES: intVar({ default: DEFAULT_BODY_BUDGET_BYTES, min: MIN_BODY_BUDGET_BODIES * PROTOBUF_BODY_BYTES, max: 2 ** 40 }),
    SWARM_HTTP_MAX_CONNECTIONS: intVar({ default: DEFAULT_MAX_HTTP_CONNECTIONS, min: MIN_HTTP_CONNECTIONS, max: 1_000_000 }),
  });
  return Object.freeze({
    ...toServiceConfig(v),
    http: Object.freeze({
      listen: v.SWARM_HTTP_LISTEN,
      jsonBodyBytes: v.SWARM_HTTP_JSON_LIMIT_BYTES,
      protobufBodyBytes: PROTOBUF_BODY_BYTES,
      ratePerSecond: v.SWARM_HTTP_RATE_PER_S,
      burst: v.SWARM_HTTP_BURST,
      bodyBudgetBytes: v.SWARM_HTTP_BODY_BUDGET_BYTES,
      maxConnections: v.SWARM_HTTP_MAX_CONNECTIONS,
    }),
  });
}
