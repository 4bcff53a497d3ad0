/**
 * registry-svc settings: the seeds it joins the swarm through, and what its NodeRecords say and how
 * long they live. Pure: main.ts passes process.env and the machine's CPU count.
 */
import type { Env, EnvVar, ServiceConfig } from '@swarm/config';
import { envVar, intVar, loadEnv, SERVICE_VARS, toServiceConfig } from '@swarm/config';
import { peerOfDhtEndpoint } from '@swarm/dht-gateway';
import type { PeerAddress } from '@swarm/gateway';
import { parsePeerAddress } from '@swarm/gateway';
import { DEFAULT_POW_DIFFICULTY, MAX_CAPACITY, MAX_POW_DIFFICULTY } from '@swarm/records';
import { z } from 'zod';

/** Ten minutes: a dead node's records are gone within that, and republishing at half of it costs one signature per skill every 5 min. */
export const DEFAULT_RECORD_TTL_MS = 10 * 60 * 1000;
/** Records shorter-lived than this would be republished faster than a lookup round trip. */
export const MIN_RECORD_TTL_MS = 1_000;
/** verifyRecord's default limit: peers refuse longer-lived records. */
export const MAX_RECORD_TTL_MS = 60 * 60 * 1000;
/** A seed list is a handful of addresses, not a peer database. */
export const MAX_SEEDS = 64;

/** A peer to join through, with its proof-of-work nonce when the seed list gave it. */
export interface Seed extends PeerAddress {
  readonly powNonce?: bigint;
}

export interface RegistrySwarmConfig {
  /** Peers to join through, `<node id>@host:port` or `<node id>:<nonce>@host:port`; none starts a new swarm. */
  readonly seeds: readonly Seed[];
  /** Lifetime of this node's NodeRecords. */
  readonly recordTtlMs: number;
  /** Leading zero bits a node id's proof of work needs: one value for the whole swarm. */
  readonly powDifficulty: number;
  /** Tasks this node advertises it runs at once. */
  readonly capacity: number;
}

export interface RegistryConfig extends ServiceConfig {
  readonly swarm: RegistrySwarmConfig;
}

const SEED_LIST_HELP = `a comma-separated list of at most ${MAX_SEEDS} <64 hex node id>@host:port or <64 hex node id>:<proof-of-work nonce>@host:port (empty: start a new swarm)`;

/** `<node id>@host:port`, or a DHT endpoint with the seed's nonce; undefined for anything else. */
function parseSeed(text: string): Seed | undefined {
  const peer = parsePeerAddress(text);
  if (peer) return peer;
  try {
    return peerOfDhtEndpoint(text);
  } catch {
    return undefined;
  }
}

/** Every entry of the list parses, or the whole variable is reported (the user sees the list as written). */
function seedsVar(): EnvVar<readonly Seed[]> {
  const schema = z
    .string()
    .optional()
    .transform((text, ctx) => {
      const entries = (text ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      const seeds = entries.map(parseSeed);
      if (entries.length > MAX_SEEDS || seeds.some((s) => s === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'bad seed list' });
        return z.NEVER;
      }
      return Object.freeze(seeds as Seed[]);
    });
  return envVar(schema as z.ZodType<readonly Seed[], string | undefined>, SEED_LIST_HELP);
}

export function loadRegistryConfig(env: Env, cpus = 1): RegistryConfig {
  const v = loadEnv(env, {
    ...SERVICE_VARS,
    SWARM_SEEDS: seedsVar(),
    SWARM_RECORD_TTL_MS: intVar({ default: DEFAULT_RECORD_TTL_MS, min: MIN_RECORD_TTL_MS, max: MAX_RECORD_TTL_MS }),
    SWARM_POW_DIFFICULTY: intVar({ default: DEFAULT_POW_DIFFICULTY, min: 0, max: MAX_POW_DIFFICULTY }),
    // Executors do not report their thread count, so the node's capacity is a setting; by default
    // the CPU count, as executor-svc's default thread count is.
    SWARM_NODE_CAPACITY: intVar({ default: Math.min(Math.max(1, cpus), MAX_CAPACITY), min: 1, max: MAX_CAPACITY }),
  });
  return Object.freeze({
    ...toServiceConfig(v),
    swarm: Object.freeze({
      seeds: v.SWARM_SEEDS,
      recordTtlMs: v.SWARM_RECORD_TTL_MS,
      powDifficulty: v.SWARM_POW_DIFFICULTY,
      capacity: v.SWARM_NODE_CAPACITY,
    }),
  });
}

/** The swarm settings of a config loaded without them (tests and tools that use loadServiceConfig): no seeds, defaults. */
export function swarmSettingsOf(config: ServiceConfig & { readonly swarm?: RegistrySwarmConfig }): RegistrySwarmConfig {
  return config.swarm ?? Object.freeze({ seeds: Object.freeze([]), recordTtlMs: DEFAULT_RECORD_TTL_MS, powDifficulty: DEFAULT_POW_DIFFICULTY, capacity: 1 });
}
