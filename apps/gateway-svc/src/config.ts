/**
 * gateway-svc settings: where the peer gRPC server listens, the address peers are told, the
 * per-peer limits, how many peers' tasks run and wait here, how long a relayed DHT call may take,
 * and the proof-of-work difficulty of the records it signs. Pure: main.ts passes process.env.
 */
import type { Env, EnvVar, ServiceConfig } from '@swarm/config';
import { ConfigError, enumVar, envVar, intVar, loadEnv, SERVICE_VARS, toServiceConfig } from '@swarm/config';
import { BUS_MAX_PAYLOAD_BYTES, TASK_MAX_TIMEOUT_MS } from '@swarm/contracts';
import { canonicalHost, DEFAULT_DHT_CALL_TIMEOUT_MS, scopeOfIp } from '@swarm/dht-gateway';
import { isIP } from 'node:net';
import type { GatewayLimits, HostPort } from '@swarm/gateway';
import { formatHostPort, isWildcardHost, parseHostPort } from '@swarm/gateway';
import { DEFAULT_POW_DIFFICULTY, MAX_POW_DIFFICULTY } from '@swarm/records';
import { z } from 'zod';

/** Loopback on a port the OS picks: nothing outside the machine can reach a default node. */
export const DEFAULT_GATEWAY_LISTEN = '127.0.0.1:0';
/** A peer carries tasks as large as the bus does. */
export const DEFAULT_MAX_MESSAGE_BYTES = BUS_MAX_PAYLOAD_BYTES;
export const DEFAULT_MAX_DEADLINE_MS = TASK_MAX_TIMEOUT_MS;
export const DEFAULT_PEER_MAX_INFLIGHT = 32;
export const DEFAULT_PEER_RATE_PER_SECOND = 100;
export const DEFAULT_PEER_BURST = 200;
/** Per remote host, whatever node ids it uses (@swarm/gateway host-admission.ts): twice one peer's allowance. */
export const DEFAULT_HOST_MAX_INFLIGHT = 2 * DEFAULT_PEER_MAX_INFLIGHT;
export const DEFAULT_HOST_RATE_PER_SECOND = 2 * DEFAULT_PEER_RATE_PER_SECOND;
export const DEFAULT_HOST_BURST = 2 * DEFAULT_PEER_BURST;
export const DEFAULT_HOST_MAX_CONNECTIONS = 32;
/** Peer calls in flight across every peer. */
export const DEFAULT_MAX_INFLIGHT_TOTAL = 8 * DEFAULT_PEER_MAX_INFLIGHT;
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Peers' tasks running here at once; beyond it they wait by standing (docs/priority.md). */
export const DEFAULT_MAX_PEER_TASKS = 16;
/** Peers' tasks waiting for a slot at most; a full queue refuses (or displaces) with OVERLOADED. */
export const DEFAULT_PEER_QUEUE = 32;
/** A waiting task hears OVERLOADED after this and tries another provider, with time left for it. */
export const DEFAULT_PEER_QUEUE_WAIT_MS = 2_000;
/** A DHT call answers within a lookup's patience; beyond a minute a lookup has long moved on. */
const MIN_DHT_CALL_TIMEOUT_MS = 100;
const MAX_DHT_CALL_TIMEOUT_MS = 60_000;
/** A message limit must leave room for a real request. */
const MIN_MESSAGE_BYTES = 1024;
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface GatewayConfig extends ServiceConfig {
  readonly listen: HostPort;
  /** What peers are told; undefined means the listen host with the port actually bound. */
  readonly advertise: HostPort | undefined;
  /**
   * Where peers reach this node from, which bounds the addresses it dials for them (dht-gateway
   * peerAddressToDial); 'auto' reads it from the advertised name and the listen addresses
   * (ownScopeReader), which split-horizon DNS misleads: only the operator knows then.
   */
  readonly scope: GatewayScopeSetting;
  readonly limits: GatewayLimits;
  /** How long a DHT call to a peer waits; the whole swarm should use one value (see dht-inbound-relay.ts). */
  readonly dhtCallTimeoutMs: number;
  /** Leading zero bits of the node id's proof of work in the records this gateway signs. */
  readonly powDifficulty: number;
  readonly peerTasks: PeerTaskLimits;
}

/** SWARM_GATEWAY_SCOPE: 'auto', or where peers reach this node from (an AddressScope but 'undialable'). */
export const GATEWAY_SCOPE_SETTINGS = ['auto', 'public', 'private', 'link-local', 'loopback'] as const;
export type GatewayScopeSetting = (typeof GATEWAY_SCOPE_SETTINGS)[number];

/** Scopes by how much a node in each may dial (a loopback node anything, a public one only public addresses). */
const SCOPE_REACH: Readonly<Record<Exclude<GatewayScopeSetting, 'auto'>, number>> = { loopback: 0, 'link-local': 1, private: 2, public: 3 };

/**
 * Why `setting` cannot be this node's scope when it is told to peers as `advertised`: a scope wider
 * than its IP address reads lifts the checks on the addresses records name (`loopback` on a public
 * address had it dial its own NATS port for any record: helper-174). A name is not checked: where
 * DNS misleads the reading is what the setting is for.
 */
function scopeSettingProblem(setting: GatewayScopeSetting, advertised: HostPort): string | undefined {
  if (setting === 'auto' || isIP(advertised.host) === 0 || isWildcardHost(advertised.host)) return undefined;
  const reads = scopeOfIp(advertised.host);
  const readsReach = reads === 'undialable' ? SCOPE_REACH.public : SCOPE_REACH[reads];
  if (SCOPE_REACH[setting] >= readsReach) return undefined;
  return `expected no wider a scope than ${formatHostPort(advertised)} reads (${reads}), got '${setting}'`;
}

/** How many peers' tasks run here, and how many wait (by standing) and for how long, when full. */
export interface PeerTaskLimits {
  readonly maxRunning: number;
  /** 0: none waits; a full node refuses at once. */
  readonly maxWaiting: number;
  readonly maxWaitMs: number;
}

/**
 * host:port, the host written the one way peers take it (libs/dht-gateway canonicalHost: a name in
 * lower case, IPv6 in RFC 5952 form, IPv4-mapped as IPv4), since the address is what the node tells
 * peers: `Node1.example.org` or `[2001:DB8::1]` would start and then be refused by every peer's DHT.
 */
function hostPortVar(opts: { default?: string; portZero: boolean }): EnvVar<HostPort | undefined> {
  const fits = (s: string) => {
    const a = parseHostPort(s);
    return a !== undefined && (opts.portZero || a.port > 0) && canonicalHost(a.host) !== undefined;
  };
  const schema = z
    .string()
    .refine(fits)
    .optional()
    .transform((s) => {
      const text = s ?? opts.default;
      const address = text === undefined ? undefined : parseHostPort(text);
      return address && { host: canonicalHost(address.host) ?? address.host, port: address.port };
    });
  const port = opts.portZero ? 'a port (0: any free port)' : 'a port';
  const dflt = opts.default === undefined ? '' : ` (default ${opts.default})`;
  return envVar(
    schema as z.ZodType<HostPort | undefined, string | undefined>,
    `host:port (IPv4 as four decimal numbers, DNS name ending in a label that starts with a letter, or [IPv6], ${port})${dflt}`,
  );
}

export function loadGatewayConfig(env: Env): GatewayConfig {
  const v = loadEnv(env, {
    ...SERVICE_VARS,
    SWARM_GATEWAY_LISTEN: hostPortVar({ default: DEFAULT_GATEWAY_LISTEN, portZero: true }),
    SWARM_GATEWAY_ADVERTISE: hostPortVar({ portZero: false }),
    SWARM_GATEWAY_SCOPE: enumVar(GATEWAY_SCOPE_SETTINGS, 'auto'),
    SWARM_GATEWAY_MAX_MESSAGE_BYTES: intVar({ default: DEFAULT_MAX_MESSAGE_BYTES, min: MIN_MESSAGE_BYTES, max: MAX_MESSAGE_BYTES }),
    SWARM_GATEWAY_MAX_DEADLINE_MS: intVar({ default: DEFAULT_MAX_DEADLINE_MS, min: 100, max: 3_600_000 }),
    SWARM_GATEWAY_PEER_MAX_INFLIGHT: intVar({ default: DEFAULT_PEER_MAX_INFLIGHT, min: 1, max: 10_000 }),
    SWARM_GATEWAY_PEER_RATE: intVar({ default: DEFAULT_PEER_RATE_PER_SECOND, min: 1, max: 1_000_000 }),
    SWARM_GATEWAY_PEER_BURST: intVar({ default: DEFAULT_PEER_BURST, min: 1, max: 1_000_000 }),
    SWARM_GATEWAY_HOST_MAX_INFLIGHT: intVar({ default: DEFAULT_HOST_MAX_INFLIGHT, min: 1, max: 100_000 }),
    SWARM_GATEWAY_HOST_RATE: intVar({ default: DEFAULT_HOST_RATE_PER_SECOND, min: 1, max: 1_000_000 }),
    SWARM_GATEWAY_HOST_BURST: intVar({ default: DEFAULT_HOST_BURST, min: 1, max: 1_000_000 }),
    SWARM_GATEWAY_HOST_MAX_CONNECTIONS: intVar({ default: DEFAULT_HOST_MAX_CONNECTIONS, min: 1, max: 100_000 }),
    SWARM_GATEWAY_MAX_INFLIGHT: intVar({ default: DEFAULT_MAX_INFLIGHT_TOTAL, min: 1, max: 1_000_000 }),
    SWARM_GATEWAY_DHT_TIMEOUT_MS: intVar({ default: DEFAULT_DHT_CALL_TIMEOUT_MS, min: MIN_DHT_CALL_TIMEOUT_MS, max: MAX_DHT_CALL_TIMEOUT_MS }),
    SWARM_POW_DIFFICULTY: intVar({ default: DEFAULT_POW_DIFFICULTY, min: 0, max: MAX_POW_DIFFICULTY }),
    SWARM_GATEWAY_PEER_TASKS: intVar({ default: DEFAULT_MAX_PEER_TASKS, min: 1, max: 10_000 }),
    SWARM_GATEWAY_PEER_QUEUE: intVar({ default: DEFAULT_PEER_QUEUE, min: 0, max: 10_000 }),
    SWARM_GATEWAY_PEER_QUEUE_WAIT_MS: intVar({ default: DEFAULT_PEER_QUEUE_WAIT_MS, min: 1, max: 60_000 }),
  });
  const listen = v.SWARM_GATEWAY_LISTEN as HostPort;
  if (v.SWARM_GATEWAY_ADVERTISE === undefined && isWildcardHost(listen.host)) {
    throw new ConfigError([`SWARM_GATEWAY_ADVERTISE: expected the host:port peers should dial when SWARM_GATEWAY_LISTEN is a wildcard (${formatHostPort(listen)}), got nothing`]);
  }
  const scopeProblem = scopeSettingProblem(v.SWARM_GATEWAY_SCOPE, v.SWARM_GATEWAY_ADVERTISE ?? listen);
  if (scopeProblem !== undefined) throw new ConfigError([`SWARM_GATEWAY_SCOPE: ${scopeProblem}`]);
  return Object.freeze({
    ...toServiceConfig(v),
    listen,
    advertise: v.SWARM_GATEWAY_ADVERTISE,
    scope: v.SWARM_GATEWAY_SCOPE,
    limits: Object.freeze({
      maxMessageBytes: v.SWARM_GATEWAY_MAX_MESSAGE_BYTES,
      maxDeadlineMs: v.SWARM_GATEWAY_MAX_DEADLINE_MS,
      handshakeTimeoutMs: TLS_HANDSHAKE_TIMEOUT_MS,
      peer: Object.freeze({ maxInflight: v.SWARM_GATEWAY_PEER_MAX_INFLIGHT, ratePerSecond: v.SWARM_GATEWAY_PEER_RATE, burst: v.SWARM_GATEWAY_PEER_BURST }),
      shared: Object.freeze({
        host: Object.freeze({
          maxInflight: v.SWARM_GATEWAY_HOST_MAX_INFLIGHT,
          ratePerSecond: v.SWARM_GATEWAY_HOST_RATE,
          burst: v.SWARM_GATEWAY_HOST_BURST,
          maxConnections: v.SWARM_GATEWAY_HOST_MAX_CONNECTIONS,
        }),
        maxInflightTotal: v.SWARM_GATEWAY_MAX_INFLIGHT,
      }),
    }),
    dhtCallTimeoutMs: v.SWARM_GATEWAY_DHT_TIMEOUT_MS,
    powDifficulty: v.SWARM_POW_DIFFICULTY,
    peerTasks: Object.freeze({ maxRunning: v.SWARM_GATEWAY_PEER_TASKS, maxWaiting: v.SWARM_GATEWAY_PEER_QUEUE, maxWaitMs: v.SWARM_GATEWAY_PEER_QUEUE_WAIT_MS }),
  });
}
