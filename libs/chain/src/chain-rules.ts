/**
 * The swarm-wide parameters every node checks every chain against (a chain is valid only under the
 * rules its auditor applies, so all nodes of one swarm use one set), and the size limits.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';

/** Parts per million: shares and the drain fraction are integers so every node computes the same. */
export const PPM = 1_000_000;
export const MAX_UINT64 = (1n << 64n) - 1n;
/** Times are uint64 on the wire; kept to what a JavaScript number holds exactly (year 287,396). */
export const MAX_AT_MS = BigInt(Number.MAX_SAFE_INTEGER);

/** How far one node's clock may run ahead of another's (a receipt's or a block's time). */
export const DEFAULT_MAX_SKEW_MS = 30_000;

/**
 * How far ahead of a payee's clock a payer may date a receipt it sends: the block that holds it
 * is dated no earlier, and auditors refuse blocks more than DEFAULT_MAX_SKEW_MS (30 s) past their
 * own clocks, so a tight bound here leaves auditors whose clocks run behind room. The payee's
 * ledger (libs/credit chain-book.ts) and its gateway (a refusal before any signature check) apply it.
 */
export const MAX_RECEIPT_AHEAD_MS = 5_000;

/** A new node's grant, as credit-svc grants today. */
export const DEFAULT_GENESIS_GRANT = 1_000n;
/** Spendable at once: a few small tasks (a 256×256 matmul costs 34), so a swarm of new nodes gets going. */
export const DEFAULT_STARTER_ALLOWANCE = 100n;
export const DEFAULT_EPOCH_MS = 86_400_000;
/** A node with no RECEIPT_IN for this long is idle and drains at every epoch boundary. */
export const DEFAULT_IDLE_WINDOW_MS = 7 * DEFAULT_EPOCH_MS;
/** 1% of the holdings per idle epoch. */
export const DEFAULT_DRAIN_PPM = 10_000;

export interface ChainRules {
  /** Credits of every GENESIS block; at least 1. */
  readonly genesisGrant: bigint;
  /** Of the grant, spendable at once; the rest is locked until the node's first RECEIPT_IN. */
  readonly starterAllowance: bigint;
  /** Epoch boundaries are the multiples of this since the Unix epoch, ms. */
  readonly epochMs: number;
  /** Idle at boundary b: no RECEIPT_IN with b − idleWindowMs ≤ at_ms < b, ms. */
  readonly idleWindowMs: number;
  /** Fraction of available + locked burned at each idle boundary, parts per million (0 = no drain). */
  readonly drainPpm: number;
}

export const DEFAULT_CHAIN_RULES: ChainRules = Object.freeze({
  genesisGrant: DEFAULT_GENESIS_GRANT,
  starterAllowance: DEFAULT_STARTER_ALLOWANCE,
  epochMs: DEFAULT_EPOCH_MS,
  idleWindowMs: DEFAULT_IDLE_WINDOW_MS,
  drainPpm: DEFAULT_DRAIN_PPM,
});

/** The defaults with `overrides`, checked and frozen; one INVALID_ARGUMENT lists every problem. */
export function chainRules(overrides: Partial<ChainRules> = {}): ChainRules {
  const rules = { ...DEFAULT_CHAIN_RULES, ...overrides };
  const problems: string[] = [];
  const { genesisGrant, starterAllowance, epochMs, idleWindowMs, drainPpm } = rules;
  if (typeof genesisGrant !== 'bigint' || genesisGrant < 1n || genesisGrant > MAX_UINT64) problems.push(`genesisGrant: expected a bigint in 1..2^64-1, got ${shown(genesisGrant)}`);
  if (typeof starterAllowance !== 'bigint' || starterAllowance < 0n || (typeof genesisGrant === 'bigint' && starterAllowance > genesisGrant))
    problems.push(`starterAllowance: expected a bigint in 0..genesisGrant, got ${shown(starterAllowance)}`);
  if (!isPositiveMs(epochMs)) problems.push(`epochMs: expected a positive integer, got ${shown(epochMs)}`);
  if (!isPositiveMs(idleWindowMs)) problems.push(`idleWindowMs: expected a positive integer, got ${shown(idleWindowMs)}`);
  if (!Number.isInteger(drainPpm) || drainPpm < 0 || drainPpm > PPM) problems.push(`drainPpm: expected an integer in 0..${PPM}, got ${shown(drainPpm)}`);
  if (problems.length > 0) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `chain rules: ${problems.join('; ')}`);
  return Object.freeze(rules);
}

function isPositiveMs(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x > 0;
}

/** A caller's value in a message, bounded. */
export function shown(x: unknown): string {
  return typeof x === 'bigint' || typeof x === 'number' ? String(x).slice(0, 40) : typeof x;
}

/** Enough of a node id to recognise it in a message; ids may come from a peer. */
export function short(nodeId: string): string {
  return nodeId.slice(0, 12);
}

/** The rules as @swarm/config's CHAIN_VARS load them from the environment. */
export interface ChainRulesVars {
  readonly SWARM_CHAIN_GENESIS_GRANT: bigint;
  readonly SWARM_CHAIN_STARTER_ALLOWANCE: bigint;
  readonly SWARM_CHAIN_EPOCH_MS: number;
  readonly SWARM_CHAIN_IDLE_WINDOW_MS: number;
  readonly SWARM_CHAIN_DRAIN_PPM: number;
}

/** chainRules() of the loaded variables (throws INVALID_ARGUMENT when they disagree). */
export function chainRulesFromVars(v: ChainRulesVars): ChainRules {
  return chainRules({
    genesisGrant: v.SWARM_CHAIN_GENESIS_GRANT,
    starterAllowance: v.SWARM_CHAIN_STARTER_ALLOWANCE,
    epochMs: v.SWARM_CHAIN_EPOCH_MS,
    idleWindowMs: v.SWARM_CHAIN_IDLE_WINDOW_MS,
    drainPpm: v.SWARM_CHAIN_DRAIN_PPM,
  });
}
