/**
 * A node growing its own chain: the genesis, receipts (pledged, paid, released and received) and the idle burns they
 * must follow. Each new block goes through the same transition an auditor applies (chain-state.ts)
 * before it is signed, so a node never signs a block peers would refuse — and never signs two
 * blocks with one seq, which would be a fork proof against it.
 */
import type { ChainBlock, Receipt, SignedReceipt, SignedVoid } from '@swarm/contracts';
import { BlockKind, ErrorCode, SwarmError } from '@swarm/contracts';
import { nodeIdOfKey } from '@swarm/records';
import { encodeBlock, signBlock, ZERO_HASH } from './block';
import { ChainRefusal, ReceiptRefusal } from './chain-refusal';
import type { ChainRules } from './chain-rules';
import { DEFAULT_MAX_SKEW_MS, MAX_AT_MS, short, shown } from './chain-rules';
import type { ChainHead, PledgeOf } from './chain-state';
import { applyBlock, dueBurn } from './chain-state';
import { verifyReceipt } from './receipt';
import { verifyVoid } from './void';
import type { ChainSigner, SignatureCheck } from './signing';
import { hex, sha256 } from './signing';

export interface AppendResult {
  /** The new SignedBlocks, in order: store them all, atomically, then use `head`. */
  readonly blocks: readonly Uint8Array[];
  readonly head: ChainHead;
}

export interface AppendReceiptOptions {
  /** This node's clock, epoch ms. The block is dated no earlier than its receipt or the last block. */
  readonly atMs: number;
  /** Whether the chain already names a receipt id, in any block (the store's index). */
  readonly hasReceipt: (receiptId: string) => boolean;
  /** The chain's pledges not paid (the store's index): a RECEIPT_OUT of a pledged receipt closes its pledge. None by default. */
  readonly pledgeOf?: PledgeOf;
  /** How far ahead of `atMs` a receipt may be dated (a payer's clock); DEFAULT_MAX_SKEW_MS. */
  readonly maxSkewMs?: number;
  /** For the receipt's two signatures: checkSignature by default (parsed keys are kept per process), or a remembering check. */
  readonly checkSignature?: SignatureCheck;
}

/** Block 1 of a new node's chain. */
export function createGenesis(signer: ChainSigner, rules: ChainRules, atMs: number): AppendResult {
  const at = checkTime(atMs, 'atMs');
  const nodeId = nodeIdOfKey(signer.publicKey);
  const block: ChainBlock = {
    nodeId,
    publicKey: Uint8Array.from(signer.publicKey),
    seq: 1n,
    prevHash: Uint8Array.from(ZERO_HASH),
    kind: BlockKind.BLOCK_KIND_GENESIS,
    amount: rules.genesisGrant,
    atMs: at,
  };
  return append(undefined, block, signer, rules);
}

/** Appends every idle burn due by `nowMs` (a node does this at each epoch boundary, and before any other block). */
export function appendDueBurns(head: ChainHead, signer: ChainSigner, rules: ChainRules, nowMs: number): AppendResult {
  return burnsUntil(head, signer, rules, checkTime(nowMs, 'nowMs'));
}

/**
 * Appends a countersigned receipt: RECEIPT_OUT when this node is the payer, RECEIPT_IN when it is
 * the payee, after the idle burns due by then. A replayed receipt id is refused ('replayed'); paying
 * more than is available is INSUFFICIENT_CREDIT.
 */
export function appendReceipt(head: ChainHead, signed: SignedReceipt, signer: ChainSigner, rules: ChainRules, options: AppendReceiptOptions): AppendResult {
  checkSigner(head, signer);
  const now = checkTime(options.atMs, 'atMs');
  const receipt = verifyReceipt(signed, signatureCheckOf(options));
  const kind = receipt.payer === head.nodeId ? BlockKind.BLOCK_KIND_RECEIPT_OUT : receipt.payee === head.nodeId ? BlockKind.BLOCK_KIND_RECEIPT_IN : undefined;
  if (kind === undefined)
    throw new SwarmError(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      `receipt from ${short(receipt.payer)} to ${short(receipt.payee)} does not concern this chain's node ${short(head.nodeId)}`,
    );
  // Closing its pledge, or paying a released one after all.
  const closes = kind === BlockKind.BLOCK_KIND_RECEIPT_OUT && options.pledgeOf?.(receipt.receiptId) !== undefined;
  refuseReplayedOrAhead(receipt, now, options, closes);
  const receiptField = { receipt: signed.receipt, payerSignature: signed.payerSignature, payeeSignature: signed.payeeSignature };
  return appendAfterBurns(head, { kind, amount: receipt.amount, receipt: receiptField }, receipt, signer, rules, options);
}

/**
 * Appends the PLEDGE of a receipt this node signed as payer and has not sent yet (its payee
 * countersigns only a receipt its payer's chain pledges): its amount leaves `available`, after
 * the idle burns due by then. INSUFFICIENT_CREDIT when the chain cannot pay it; a receipt id the
 * chain names already is refused ('replayed').
 */
export function appendPledge(head: ChainHead, signed: SignedReceipt, signer: ChainSigner, rules: ChainRules, options: AppendReceiptOptions): AppendResult {
  checkSigner(head, signer);
  const now = checkTime(options.atMs, 'atMs');
  const receipt = verifyReceipt(signed, { countersigned: false, expectedPayer: head.nodeId, ...signatureCheckOf(options) });
  refuseReplayedOrAhead(receipt, now, options, false);
  const pledged = { receipt: signed.receipt, payerSignature: signed.payerSignature, payeeSignature: new Uint8Array(0) };
  return appendAfterBurns(head, { kind: BlockKind.BLOCK_KIND_PLEDGE, amount: receipt.amount, receipt: pledged }, receipt, signer, rules, options);
}

/** Appends the RELEASE of a pledged receipt whose payee countersigned its void: the amount returns to `available`. */
export function appendRelease(head: ChainHead, countersigned: SignedVoid, signer: ChainSigner, rules: ChainRules, options: AppendReceiptOptions): AppendResult {
  checkSigner(head, signer);
  checkTime(options.atMs, 'atMs');
  const receipt = verifyVoid(countersigned, { expectedPayer: head.nodeId, ...signatureCheckOf(options) });
  if (options.pledgeOf?.(receipt.receiptId)?.released !== false)
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `receipt ${receipt.receiptId.slice(0, 64)} is not pledged in this chain: there is nothing to release`);
  const releasedVoid: SignedVoid = {
    receipt: countersigned.receipt,
    payerSignature: countersigned.payerSignature,
    payeeSignature: countersigned.payeeSignature,
    receiptSignature: countersigned.receiptSignature,
  };
  return appendAfterBurns(head, { kind: BlockKind.BLOCK_KIND_RELEASE, amount: receipt.amount, releasedVoid }, receipt, signer, rules, options);
}

/** A receipt-naming block after the burns due by its time: dated no earlier than its receipt, the last block or `options.atMs`. */
function appendAfterBurns(
  head: ChainHead,
  content: Pick<ChainBlock, 'kind' | 'amount' | 'receipt' | 'releasedVoid'>,
  receipt: Receipt,
  signer: ChainSigner,
  rules: ChainRules,
  options: AppendReceiptOptions,
): AppendResult {
  const now = BigInt(options.atMs);
  let at = now > head.atMs ? now : head.atMs;
  if (receipt.atMs > at) at = receipt.atMs;
  const burns = burnsUntil(head, signer, rules, at);
  const h = burns.head;
  const block: ChainBlock = { nodeId: h.nodeId, publicKey: h.publicKey, seq: h.seq + 1n, prevHash: h.hash, ...content, atMs: at };
  const receiptBytes = content.releasedVoid?.receipt ?? content.receipt?.receipt ?? new Uint8Array(0);
  try {
    const { blockBytes, hash } = encodeBlock(block);
    const next = applyBlock(h, { block, hash, receipt, receiptDigest: hex(sha256(receiptBytes)) }, rules, options.hasReceipt, options.pledgeOf);
    return { blocks: [...burns.blocks, signBlock(blockBytes, signer)], head: next };
  } catch (err) {
    if (err instanceof ChainRefusal && (err.reason === 'overspend' || err.reason === 'spends-locked')) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, `node ${short(h.nodeId)} ${err.message.replace(/^.*?\): /, '')}`);
    }
    throw err;
  }
}

function burnsUntil(head: ChainHead, signer: ChainSigner, rules: ChainRules, until: bigint): AppendResult {
  checkSigner(head, signer);
  const blocks: Uint8Array[] = [];
  let h = head;
  for (let due = dueBurn(h, rules); due !== undefined && due.atMs <= until; due = dueBurn(h, rules)) {
    const block: ChainBlock = { nodeId: h.nodeId, publicKey: h.publicKey, seq: h.seq + 1n, prevHash: h.hash, kind: BlockKind.BLOCK_KIND_BURN, amount: due.amount, atMs: due.atMs };
    const done = append(h, block, signer, rules);
    blocks.push(...done.blocks);
    h = done.head;
  }
  return { blocks, head: h };
}

/** Checks a block that names no receipt (a GENESIS, a BURN) as an auditor would, then signs it. */
function append(head: ChainHead | undefined, block: ChainBlock, signer: ChainSigner, rules: ChainRules): AppendResult {
  const { blockBytes, hash } = encodeBlock(block);
  const next = applyBlock(head, { block, hash }, rules, () => false);
  return { blocks: [signBlock(blockBytes, signer)], head: next };
}

/** The caller's signature check, when it passes one (verifyReceipt's default otherwise). */
function signatureCheckOf(options: AppendReceiptOptions): { checkSignature?: SignatureCheck } {
  return options.checkSignature ? { checkSignature: options.checkSignature } : {};
}

/** A receipt id the chain names already ('replayed'; unless `closing` its pledge), or one dated past the node's clock and skew ('dated-ahead'). */
function refuseReplayedOrAhead(receipt: Receipt, now: bigint, options: AppendReceiptOptions, closing: boolean): void {
  if (!closing && options.hasReceipt(receipt.receiptId)) throw new ReceiptRefusal('replayed', `receipt ${receipt.receiptId.slice(0, 64)} is already in the chain`);
  const skew = BigInt(options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  if (receipt.atMs > now + skew) throw new ReceiptRefusal('dated-ahead', `dated ${receipt.atMs - now} ms ahead of this node's clock (allowed ${skew} ms)`);
}

function checkSigner(head: ChainHead, signer: ChainSigner): void {
  if (nodeIdOfKey(signer.publicKey) !== head.nodeId)
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `the signer is not node ${short(head.nodeId)}, whose chain this is`);
}

function checkTime(ms: number, name: string): bigint {
  if (!Number.isSafeInteger(ms) || ms < 1 || BigInt(ms) > MAX_AT_MS)
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `${name} must be a positive integer of ms, got ${shown(ms)}`);
  return BigInt(ms);
}
