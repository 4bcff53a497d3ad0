import type { Env } from './env-schema';
import { enumVar, intVar, loadEnv, numberVar, optionalStringVar, stringVar } from './env-schema';

export const DEFAULT_GRACE_MS = 5_000;
/** How long a service waits for its bus at start before it gives up (exit 1, SWARM_NO_NODE). */
export const DEFAULT_NATS_CONNECT_TIMEOUT_MS = 60_000;
/**
 * Share of tasks traced when spans are exported: 1 in 100 keeps a busy node's traces useful at a
 * cost of ~1% of the export work; a trace's first span decides for all of it (libs/telemetry).
 */
export const DEFAULT_TRACE_SAMPLE_RATIO = 0.01;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const NATS_URL = /^(nats|tls|ws|wss):\/\/[^\s/]+(:\d+)?\/?$/;

/** Variables every service process reads. */
export const SERVICE_VARS = {
  SWARM_NATS_URL: stringVar({ pattern: NATS_URL, describe: 'a NATS URL like nats://127.0.0.1:4222' }),
  SWARM_DATA_DIR: stringVar({ describe: "the node's data directory (absolute path)", pattern: /^\// }),
  SWARM_LOG_LEVEL: enumVar(LOG_LEVELS, 'info'),
  SWARM_GRACE_MS: intVar({ default: DEFAULT_GRACE_MS, min: 100, max: 120_000 }),
  SWARM_NATS_CONNECT_TIMEOUT_MS: intVar({ default: DEFAULT_NATS_CONNECT_TIMEOUT_MS, min: 0, max: 3_600_000 }),
  SWARM_NATS_NKEY_FILE: optionalStringVar({ pattern: /^\//, describe: "absolute path of this process's NKey seed file (bus identity)" }),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalStringVar({ pattern: /^https?:\/\/\S+$/, describe: 'an http(s) URL of an OTLP/HTTP collector' }),
  SWARM_TRACE_SAMPLE_RATIO: numberVar({ default: DEFAULT_TRACE_SAMPLE_RATIO, min: 0, max: 1 }),
} as const;

export interface ServiceConfig {
  readonly natsUrl: string;
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly graceMs: number;
  readonly otlpEndpoint: string | undefined;
  /** Share of new traces recorded when `otlpEndpoint` is set. */
  readonly traceSampleRatio: number;
  readonly natsConnectTimeoutMs: number;
  /** The service's bus identity; unset on an open bus (tests). */
  readonly natsNkeyFile: string | undefined;
}

export function toServiceConfig(v: ReturnType<typeof loadEnv<typeof SERVICE_VARS>>): ServiceConfig {
  return {
    natsUrl: v.SWARM_NATS_URL,
    dataDir: v.SWARM_DATA_DIR,
    logLevel: v.SWARM_LOG_LEVEL,
    graceMs: v.SWARM_GRACE_MS,
    otlpEndpoint: v.OTEL_EXPORTER_OTLP_ENDPOINT,
    traceSampleRatio: v.SWARM_TRACE_SAMPLE_RATIO,
    natsConnectTimeoutMs: v.SWARM_NATS_CONNECT_TIMEOUT_MS,
    natsNkeyFile: v.SWARM_NATS_NKEY_FILE,
  };
}

/** Config of a service with no settings of its own (registry, gateway in this issue). */
export function loadServiceConfig(env: Env): ServiceConfig {
  return Object.freeze(toServiceConfig(loadEnv(env, SERVICE_VARS)));
}
