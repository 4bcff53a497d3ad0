/** A node's ledger on LevelDB: a level store under the ledger of @swarm/credit. */
import type { Ledger, LedgerInit } from '@swarm/credit';
import { createLedger } from '@swarm/credit';
import type { WallClock } from '@swarm/determinism';
import type { LevelStoreOptions } from './level-store';
import { createLevelStore } from './level-store';

export interface LevelLedgerOptions extends LevelStoreOptions, LedgerInit {
  readonly clock: WallClock;
}

/** LedgerOpenError when the directory is in use, damaged or of another format. */
export function openLedger(opts: LevelLedgerOptions): Promise<Ledger> {
  const { path, sync, clock, ...init } = opts;
  return createLedger({ store: createLevelStore({ path, sync }), clock }, init);
}
