export { openLedger } from './open-ledger';
export type { LevelLedgerOptions } from './open-ledger';
export { createLevelStore, LEDGER_FORMAT } from './level-store';
export type { LevelStoreOptions } from './level-store';
