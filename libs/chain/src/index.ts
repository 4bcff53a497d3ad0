/**
 * Signed receipts and per-node hash-chained ledgers (TrustChain-like), pure. A node's ledger is its
 * own chain of signed blocks (seq from 1, each linked to the previous by hash); a transfer is a
 * receipt the payer signs and the payee countersigns, appended once to each chain. Balances,
 * the genesis lock and the idle burns are derived from the chain, so any peer can audit it.
 * Signing goes through an injected ChainSigner; time is a parameter. docs/chain.md has the rules.
 */
export {
  chainRules,
  chainRulesFromVars,
  DEFAULT_CHAIN_RULES,
  DEFAULT_GENESIS_GRANT,
  DEFAULT_STARTER_ALLOWANCE,
  DEFAULT_EPOCH_MS,
  DEFAULT_IDLE_WINDOW_MS,
  DEFAULT_DRAIN_PPM,
  DEFAULT_MAX_SKEW_MS,
  MAX_RECEIPT_AHEAD_MS,
  PPM,
} from './chain-rules';
export type { ChainRules, ChainRulesVars } from './chain-rules';
export { ReceiptRefusal, ChainRefusal } from './chain-refusal';
export type { ReceiptRefusalReason, ChainRefusalReason } from './chain-refusal';
export {
  RECEIPT_DOMAIN,
  BLOCK_DOMAIN,
  VOID_DOMAIN,
  DEFAULT_REMEMBERED,
  NODE_ID,
  checkSignature,
  cachedSignatureCheck,
  rememberingSignatureCheck,
  receiptSigningBytes,
  sameBytes,
  hex,
  sha256,
  SIGNATURE_BYTES,
} from './signing';
export type { ChainSigner, DualSignatureCheck, OffThreadCheck, SignatureCheck, RememberingCheck } from './signing';
export {
  makeReceipt,
  countersignReceipt,
  verifyReceipt,
  receiptBeforeSignatures,
  proveReceiptSignatures,
  receiptIdOf,
  decodeSignedReceipt,
  encodeSignedReceipt,
  MAX_RECEIPT_BYTES,
  MAX_SIGNED_RECEIPT_BYTES,
  MAX_SHARES,
  MAX_TASK_ID_LENGTH,
  MAX_RECEIPT_ID_LENGTH,
  RECEIPT_ID_CHARS,
} from './receipt';
export type { ReceiptFields, VerifyReceiptOptions } from './receipt';
export { voidBreachWatch, verifyVoidBreachProof, encodeVoidBreachProof, scanForVoidBreaches, chainHeadCursor, CHAIN_START, MAX_VOID_BREACH_PROOF_BYTES } from './void-breach';
export type { VoidBreach, VoidBreachEvidence, VoidBreachScan, ChainCursor } from './void-breach';
export { makeVoid, voidedReceipt, countersignVoid, verifyVoid, proveVoidSignatures, decodeSignedVoid, encodeSignedVoid, MAX_SIGNED_VOID_BYTES } from './void';
export { openBlock, signedBlockHash, MAX_CHAIN_OFFER_BYTES, MAX_SIGNED_BLOCK_BYTES } from './block';
export type { OpenedBlock } from './block';
export { dueBurn } from './chain-state';
export type { ChainHead, ChainBalances, DueBurn, Pledge, PledgeOf } from './chain-state';
export { createGenesis, appendDueBurns, appendReceipt, appendPledge, appendRelease } from './append';
export type { AppendResult, AppendReceiptOptions } from './append';
export { verifyChain, verifyChainSuffix, owedBurns, trackPledges, MAX_OWED_BURNS, CHAIN_AUDIT_VERSION } from './verify-chain';
export type { ChainAudit, ChainEntry, OwedBurns, VerifyChainOptions } from './verify-chain';
export { auditChainPages, MAX_AUDITED_BLOCKS, type AuditPagesOptions, type ChainPage, type FetchChainPage, type PagedChainAudit } from './audit-pages';
export { MAX_PAGE_WAIT_MS, MAX_WAITS_PER_PAGE, patientPages, UNTIMED_PAGE_WAIT_MS, type PatientPagesOptions } from './patient-pages';
export { forkProofOf, provenFork, verifyForkProof, encodeForkProof, MAX_FORK_PROOF_BYTES } from './fork-proof';
export type { ForkEvidence } from './fork-proof';
export {
  makeChainSighting,
  verifyChainSighting,
  withPowNonce,
  sightingSigningBytes,
  SIGHTING_DOMAIN,
  MAX_SIGHTING_TTL_MS,
  heldByMost,
  MAX_SIGNED_SIGHTING_BYTES,
  SIGHTING_MAX_SKEW_MS,
} from './chain-sighting';
export type { VerifiedSighting, VerifySightingOptions, SightingTimes } from './chain-sighting';
export { checkCrossChain, MAX_REPORTED_PROBLEMS } from './cross-chain';
export type { CrossChainReport } from './cross-chain';
export { decayTrust, DEFAULT_TRUST_DECAY } from './trust-decay';
export type { TrustDecay } from './trust-decay';
