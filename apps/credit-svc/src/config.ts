import { MAX_UINT64 } from '@swarm/credit';
import { bigintVar, booleanVar, Env, loadEnv, SERVICE_VARS, ServiceConfig, toServiceConfig } from '@swarm/config';
import { join } from 'node:path';

/** Credits a brand-new node starts with (whole credits; amounts are uint64). */
export const DEFAULT_GENESIS_GRANT = 1_000n;
/** The ledger lives here inside the node's data dir; only credit-svc opens it. */
export const LEDGER_DIR = 'credit-ledger';

export const CREDIT_VARS = {
  ...SERVICE_VARS,
  SWARM_GENESIS_GRANT: bigintVar({ default: DEFAULT_GENESIS_GRANT, min: 0n, max: MAX_UINT64 }),
  // fsync per operation: off survives a process crash (the OS keeps the write), on also survives
  // power loss. On by default because a ledger that forgets payments after a reboot is worse
  // than a slower one.
  SWARM_CREDIT_SYNC_WRITES: booleanVar(true),
} as const;

export interface CreditConfig extends ServiceConfig {
  readonly genesisGrant: bigint;
  readonly syncWrites: boolean;
  /** `<dataDir>/credit-ledger` */
  readonly ledgerPath: string;
}

/** Pure: a frozen config, or one ConfigError listing every bad variable. */
export function loadCreditConfig(env: Env): CreditConfig {
  const v = loadEnv(env, CREDIT_VARS);
  return Object.freeze({
    ...toServiceConfig(v),
    genesisGrant: v.SWARM_GENESIS_GRANT,
    syncWrites: v.SWARM_CREDIT_SYNC_WRITES,
    ledgerPath: join(v.SWARM_DATA_DIR, LEDGER_DIR),
  });
}
