export { emptyAccount, MAX_UINT64, paidOut } from './ledger-records';
export type { Account, Escrow, EscrowState, Transfer } from './ledger-records';
export { TRANSFER_ID_PATTERN, isAgentAccount, validateAgentAccount, validateTransferId } from './agent-accounts';
export type { Ledger, Committed } from './ledger';
export {
  MAX_ID_LENGTH,
  MAX_PAYEES,
  MAX_PAYOUTS,
  validateId,
  validateAccount,
  validateAmount,
  validateReserve,
  validateSettle,
  validateRefund,
  validateLifetime,
  settlePayouts,
  escrowExpiry,
  isDue,
  genesisRule,
  receiptInRule,
  reserveRule,
  settleRule,
  refundRule,
  balanceRule,
} from './ledger-rules';
export type { Stamp, Change, EscrowLifetime, NamedAccount, ReserveRecords, SettleRecords, RefundRecords } from './ledger-rules';
export { chargeRule, validateCharge } from './charge-rule';
export type { ChargeRecords } from './charge-rule';
export { validateFundAgent, validateDefundAgent, fundAgentRule, defundAgentRule } from './transfer-rules';
export type { TransferRecords } from './transfer-rules';
export { createAuditor, MAX_AUDIT_PROBLEMS, MAX_AUDIT_ACCOUNTS } from './ledger-audit';
export type { Auditor, AuditReport, AuditTotals, AuditedAccount } from './ledger-audit';
export { LedgerOpenError, SIDE_SPACES } from './ledger-store';
export type { LedgerStore, LedgerBatch, ExpiryRef, SideSpace, SideWrite } from './ledger-store';
export { createLedger, MAX_ENTRIES_PAGE, DEFAULT_ESCROW_LIFETIME } from './create-ledger';
export type { LedgerComponents, LedgerInit, LedgerHooks } from './create-ledger';
export type { OperationView } from './staged-batch';
export { createMemoryStore } from './memory-store';
export { escrowStatus, validateEscrowQuery } from './escrow-status';
export { createStandingIndex, rebuildStanding, DEFAULT_STANDING_WINDOW_MS, DEFAULT_MAX_STANDING_PAYEES, MIN_STANDING_WINDOW_MS, STANDING_BUCKETS } from './standing-index';
export type { StandingIndex, StandingInit, LedgerLog } from './standing-index';
export { createChainBook } from './chain-book';
export type { ChainBook, ChainBookInit, PayerCheck, PendingReceipt } from './chain-book';
export type { Voided } from './void-book';
