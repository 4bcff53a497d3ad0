import type { ChainRules } from '@swarm/chain';
import { chainRulesFromVars } from '@swarm/chain';
import type { EscrowLifetime } from '@swarm/credit';
import { DEFAULT_ESCROW_LIFETIME, DEFAULT_MAX_STANDING_PAYEES, DEFAULT_STANDING_WINDOW_MS, MAX_UINT64, MIN_STANDING_WINDOW_MS } from '@swarm/credit';
import type { Env, ServiceConfig } from '@swarm/config';
import { bigintVar, booleanVar, CHAIN_VARS, ConfigError, enumVar, intVar, loadEnv, optionalStringVar, SERVICE_VARS, toServiceConfig } from '@swarm/config';
import { isSwarmError } from '@swarm/contracts';
import { DEFAULT_POW_DIFFICULTY, MAX_POW_DIFFICULTY } from '@swarm/records';
import { join } from 'node:path';

/** Credits a brand-new node starts with (whole credits; amounts are uint64). */
export const DEFAULT_GENESIS_GRANT = 1_000n;
/** The ledger lives here inside the node's data dir; only credit-svc opens it. */
export const LEDGER_DIR = 'credit-ledger';
/** How often the sweeper refunds expired escrows: a stranded escrow returns within about this. */
export const DEFAULT_ESCROW_SWEEP_MS = 1_000;
/** Below this the sweeper would mostly walk an empty index. */
export const MIN_ESCROW_SWEEP_MS = 50;
const MIN_ESCROW_TTL_MS = 1_000;
const MAX_ESCROW_TTL_MS = 7 * 24 * 3_600_000;
/** A week of payouts is as far back as standing looks; a rebuild reads that much of the log. */
const MAX_STANDING_WINDOW_MS = 7 * 24 * 3_600_000;
/** About 60 buckets of a few dozen bytes each per payee: a million payees is the most memory we allow. */
const MAX_STANDING_PAYEES = 1_000_000;

/** How often the receipt outbox and the idle burns are looked at when nothing asks sooner. */
export const DEFAULT_RECEIPT_PASS_MS = 1_000;
/**
 * How often the chains of payees that countersigned a void are read on for the voided receipts
 * (void-watch.ts); 0: never (`swarm ledger --peer` still checks one payee when asked).
 */
export const DEFAULT_VOID_WATCH_MS = 300_000;

export const CREDIT_VARS = {
  ...SERVICE_VARS,
  // The swarm-wide chain rules (docs/chain.md): every node of a swarm must use the same.
  ...CHAIN_VARS,
  SWARM_RECEIPT_PASS_MS: intVar({ default: DEFAULT_RECEIPT_PASS_MS, min: 50, max: 60_000 }),
  SWARM_VOID_WATCH_MS: intVar({ default: DEFAULT_VOID_WATCH_MS, min: 0, max: 86_400_000 }),
  // Countersign a receipt only when the payer's chain, read through the gateways, pledges it
  // (payer-views.ts, docs/chain.md "Payers' chains"). Off: any payer's receipt within its serve
  // ticket's cap is taken, whether or not its chain set the credit aside (credit can be made up that way).
  SWARM_CREDIT_CHECK_PAYERS: booleanVar(true),
  // Other payees' sightings of a payer's chain (docs/chain.md "Sightings"): `hold`, a receipt is
  // countersigned only once they are compared with what this node audited; `watch`, compared after
  // (a fork is still proven, but the same credit may be countersigned by two payees first).
  SWARM_CREDIT_SIGHTINGS: enumVar(['hold', 'watch'], 'hold'),
  // The proof of work other payees' sightings of a payer's chain must carry on their ids (docs/chain.md
  // "Sightings"): the swarm's one value, as gateway-svc and registry-svc have it.
  SWARM_POW_DIFFICULTY: intVar({ default: DEFAULT_POW_DIFFICULTY, min: 0, max: MAX_POW_DIFFICULTY }),
  SWARM_GENESIS_GRANT: bigintVar({ default: DEFAULT_GENESIS_GRANT, min: 0n, max: MAX_UINT64 }),
  // fsync per operation: off survives a process crash (the OS keeps the write), on also survives
  // power loss. On by default because a ledger that forgets payments after a reboot is worse
  // than a slower one.
  SWARM_CREDIT_SYNC_WRITES: booleanVar(true),
  // Where the chain-started marker goes: kept apart from the ledger, so that losing the ledger is
  // caught (docker-compose.yml gives it a volume of its own: the data dir is read-only there).
  SWARM_CREDIT_MARKER_DIR: optionalStringVar({ describe: 'a directory (default: the data dir)' }),
  SWARM_ESCROW_DEFAULT_TTL_MS: intVar({ default: DEFAULT_ESCROW_LIFETIME.defaultMs, min: MIN_ESCROW_TTL_MS, max: MAX_ESCROW_TTL_MS }),
  // Must cover the longest task the router accepts plus its settle grace, or reserves are refused.
  SWARM_ESCROW_MAX_TTL_MS: intVar({ default: DEFAULT_ESCROW_LIFETIME.maxMs, min: MIN_ESCROW_TTL_MS, max: MAX_ESCROW_TTL_MS }),
  SWARM_ESCROW_SWEEP_MS: intVar({ default: DEFAULT_ESCROW_SWEEP_MS, min: MIN_ESCROW_SWEEP_MS, max: 60_000 }),
  // Contribution standing (docs/priority.md): payouts to a peer within this window rank its tasks.
  SWARM_STANDING_WINDOW_MS: intVar({ default: DEFAULT_STANDING_WINDOW_MS, min: MIN_STANDING_WINDOW_MS, max: MAX_STANDING_WINDOW_MS }),
  SWARM_STANDING_MAX_PAYEES: intVar({ default: DEFAULT_MAX_STANDING_PAYEES, min: 1, max: MAX_STANDING_PAYEES }),
} as const;

export interface CreditConfig extends ServiceConfig {
  readonly genesisGrant: bigint;
  readonly syncWrites: boolean;
  /** `<dataDir>/credit-ledger` */
  readonly ledgerPath: string;
  /** Where credit-svc marks that this node's chain started (`<dataDir>` unless SWARM_CREDIT_MARKER_DIR). */
  readonly markerDir: string;
  readonly escrowLifetime: EscrowLifetime;
  readonly escrowSweepMs: number;
  /** Contribution standing: the window and the most payees held (libs/credit standing-index.ts). */
  readonly standing: { readonly windowMs: number; readonly maxPayees: number };
  /** The node's chain: the swarm's rules, the pace of receipt delivery and idle burns, of the watch over payees' voids (0: off), and whether payers' chains are read before countersigning. */
  readonly chain: { readonly rules: ChainRules; readonly passMs: number; readonly voidWatchMs: number; readonly checkPayers: boolean };
  /** SWARM_POW_DIFFICULTY: what other payees' sightings must carry. */
  readonly powDifficulty: number;
  /** SWARM_CREDIT_SIGHTINGS: whether a receipt waits for its payer's sightings to be compared. */
  readonly sightings: 'hold' | 'watch';
}

/** Pure: a frozen config, or one ConfigError listing every bad variable. */
export function loadCreditConfig(env: Env): CreditConfig {
  const v = loadEnv(env, CREDIT_VARS);
  // The one check across variables; it can only run once both parsed.
  if (v.SWARM_ESCROW_DEFAULT_TTL_MS > v.SWARM_ESCROW_MAX_TTL_MS) {
    throw new ConfigError([`SWARM_ESCROW_DEFAULT_TTL_MS: expected at most SWARM_ESCROW_MAX_TTL_MS (${v.SWARM_ESCROW_MAX_TTL_MS}), got '${v.SWARM_ESCROW_DEFAULT_TTL_MS}'`]);
  }
  let rules: ChainRules;
  try {
    rules = chainRulesFromVars(v);
  } catch (err) {
    if (!isSwarmError(err)) throw err;
    throw new ConfigError([`SWARM_CHAIN_*: ${err.message}`]);
  }
  return Object.freeze({
    ...toServiceConfig(v),
    chain: Object.freeze({ rules, passMs: v.SWARM_RECEIPT_PASS_MS, voidWatchMs: v.SWARM_VOID_WATCH_MS, checkPayers: v.SWARM_CREDIT_CHECK_PAYERS }),
    powDifficulty: v.SWARM_POW_DIFFICULTY,
    sightings: v.SWARM_CREDIT_SIGHTINGS,
    genesisGrant: v.SWARM_GENESIS_GRANT,
    syncWrites: v.SWARM_CREDIT_SYNC_WRITES,
    ledgerPath: join(v.SWARM_DATA_DIR, LEDGER_DIR),
    markerDir: v.SWARM_CREDIT_MARKER_DIR ?? v.SWARM_DATA_DIR,
    escrowLifetime: Object.freeze({ defaultMs: v.SWARM_ESCROW_DEFAULT_TTL_MS, maxMs: v.SWARM_ESCROW_MAX_TTL_MS }),
    escrowSweepMs: v.SWARM_ESCROW_SWEEP_MS,
    standing: Object.freeze({ windowMs: v.SWARM_STANDING_WINDOW_MS, maxPayees: v.SWARM_STANDING_MAX_PAYEES }),
  });
}
