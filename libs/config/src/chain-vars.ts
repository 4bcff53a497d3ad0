/**
 * The swarm-wide chain rules (docs/chain.md) as environment variables. Every node of one swarm, and
 * every tool auditing its chains, must read the same values: a chain is valid only under the rules
 * its auditor applies. The defaults are @swarm/chain's DEFAULT_CHAIN_RULES; the values are checked
 * together by its `chainRules()` (the starter allowance may not exceed the grant).
 */
import { bigintVar, intVar } from './env-schema';

const DAY_MS = 86_400_000;
const MAX_WINDOW_MS = 3_650 * DAY_MS;

export const CHAIN_VARS = {
  SWARM_CHAIN_GENESIS_GRANT: bigintVar({ default: 1_000n, min: 1n }),
  SWARM_CHAIN_STARTER_ALLOWANCE: bigintVar({ default: 100n, min: 0n }),
  SWARM_CHAIN_EPOCH_MS: intVar({ default: DAY_MS, min: 1_000, max: MAX_WINDOW_MS }),
  SWARM_CHAIN_IDLE_WINDOW_MS: intVar({ default: 7 * DAY_MS, min: 1_000, max: MAX_WINDOW_MS }),
  SWARM_CHAIN_DRAIN_PPM: intVar({ default: 10_000, min: 0, max: 1_000_000 }),
} as const;
