export { MAX_UINT64 } from './ledger-records';
export type { Account, Escrow, EscrowState } from './ledger-records';
export type { Ledger, Committed } from './ledger';
export {
  MAX_ID_LENGTH,
  validateId,
  validateAmount,
  validateReserve,
  validateSettle,
  validateRefund,
  validateLifetime,
  escrowExpiry,
  isDue,
  genesisRule,
  reserveRule,
  settleRule,
  refundRule,
  balanceRule,
} from './ledger-rules';
export type { Stamp, Change, EscrowLifetime, ReserveRecords, SettleRecords, RefundRecords } from './ledger-rules';
export { createAuditor, MAX_AUDIT_PROBLEMS, MAX_AUDIT_ACCOUNTS } from './ledger-audit';
export type { Auditor, AuditReport, AuditTotals, AuditedAccount } from './ledger-audit';
export { openLedger, LedgerOpenError, LEDGER_FORMAT, MAX_ENTRIES_PAGE, DEFAULT_ESCROW_LIFETIME } from './level-ledger';
export type { LedgerOptions } from './level-ledger';
export { escrowStatus, validateEscrowQuery } from './escrow-status';
