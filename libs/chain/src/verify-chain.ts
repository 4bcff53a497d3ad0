/**
 * Auditing a node's chain, from genesis or on from a head already checked: every block opened
 * (signature, fields, receipt) and applied (chain-state.ts), its balances derived, and what it owes
 * in idle burns by the auditor's clock. Two blocks with one seq come back as a fork proof.
 */
import type { ChainBlock, ForkProof } from '@swarm/contracts';
import { BlockKind, ErrorCode, SignedBlock, SwarmError } from '@swarm/contracts';
import { openBlock, openSignedBlock } from './block';
import type { OpenedBlock } from './block';
import { ChainRefusal } from './chain-refusal';
import type { ChainRules } from './chain-rules';
import { DEFAULT_MAX_SKEW_MS, short, shown } from './chain-rules';
import type { ChainHead, DueBurn, Pledge, PledgeOf } from './chain-state';
import { afterBurn, applyBlock, dueBurn } from './chain-state';
import type { SignatureCheck } from './signing';
import { cachedSignatureCheck, sameBytes } from './signing';

/** Owed burns are counted up to this many (a node gone for years owes one per epoch). */
export const MAX_OWED_BURNS = 10_000;

/**
 * Names what verifyChain and verifyChainSuffix accept. Bump it with any change to what they accept:
 * what was audited under another version (credit-svc keeps payers' audited chains across restarts,
 * payer-view-file.ts) is then audited again from genesis.
 */
export const CHAIN_AUDIT_VERSION = 1;

/** One block of an audited chain, as the cross-chain check needs it. */
export interface ChainEntry {
  readonly seq: bigint;
  readonly kind: BlockKind;
  readonly amount: bigint;
  readonly atMs: bigint;
  /** Every kind that names a receipt (RECEIPT_OUT, RECEIPT_IN, PLEDGE, RELEASE). */
  readonly receipt?: { readonly receiptId: string; readonly payer: string; readonly payee: string; readonly digest: string };
}

export interface OwedBurns {
  /** Burns due by the auditor's clock that the chain does not hold yet (capped at MAX_OWED_BURNS). */
  readonly count: number;
  readonly amount: bigint;
  /** The balances once they are burned. */
  readonly head: ChainHead;
}

export interface ChainAudit {
  /** The state after the last block: balances, seq, hash. */
  readonly head: ChainHead;
  /** The blocks checked, in order (a suffix audit: only the new ones). */
  readonly entries: readonly ChainEntry[];
  /** With `nowMs`: the idle burns the node owes but has not appended (offline, or not yet). */
  readonly owed?: OwedBurns;
}

export interface VerifyChainOptions {
  /** The auditor's clock, epoch ms: refuses blocks from the future and counts owed burns. */
  readonly nowMs?: number;
  readonly maxSkewMs?: number;
  /** The node whose chain this must be (the peer asked). */
  readonly expectedNodeId?: string;
  /** A cachedSignatureCheck of its own by default. */
  readonly checkSignature?: SignatureCheck;
  /** verifyChainSuffix: the pledges not paid at the head it goes on from (none by default). */
  readonly pledgeOf?: PledgeOf;
}

/** Verifies a whole chain (encoded SignedBlocks from seq 1). Throws a ChainRefusal at the first bad block. */
export function verifyChain(blocks: readonly Uint8Array[], rules: ChainRules, options: VerifyChainOptions = {}): ChainAudit {
  if (blocks.length === 0) throw new ChainRefusal('bad-genesis', 'an empty chain has no GENESIS');
  const seen = new Set<string>();
  return walk(
    undefined,
    blocks,
    rules,
    options,
    (id) => seen.has(id),
    (id) => seen.add(id),
    () => undefined,
  );
}

/**
 * Verifies blocks that continue a chain from `head` (an earlier audit's, or the node's own).
 * `hasReceipt` answers for the receipts before the head (the ids of the earlier entries).
 */
export function verifyChainSuffix(
  head: ChainHead,
  blocks: readonly Uint8Array[],
  rules: ChainRules,
  hasReceipt: (receiptId: string) => boolean,
  options: VerifyChainOptions = {},
): ChainAudit {
  const seen = new Set<string>();
  return walk(
    head,
    blocks,
    rules,
    { ...options, expectedNodeId: options.expectedNodeId ?? head.nodeId },
    (id) => seen.has(id) || hasReceipt(id),
    (id) => seen.add(id),
    options.pledgeOf ?? (() => undefined),
  );
}

/**
 * The pledges not paid after `entries` (in order), given those before them; changes `pledges` in
 * place. `keyOf` names a receipt id in the map (the id itself by default).
 */
export function trackPledges(pledges: Map<string, Pledge>, entries: readonly ChainEntry[], keyOf: (receiptId: string) => string = (id) => id): void {
  for (const e of entries) {
    if (e.receipt === undefined) continue;
    const id = keyOf(e.receipt.receiptId);
    if (e.kind === BlockKind.BLOCK_KIND_PLEDGE) pledges.set(id, { digest: e.receipt.digest, amount: e.amount, released: false });
    else if (e.kind === BlockKind.BLOCK_KIND_RELEASE) pledges.set(id, { digest: e.receipt.digest, amount: e.amount, released: true });
    else if (e.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT) pledges.delete(id);
  }
}

/** The idle burns `head` owes by `nowMs` (appendDueBurns appends them; an auditor can only count them). */
export function owedBurns(head: ChainHead, rules: ChainRules, nowMs: number): OwedBurns {
  const now = BigInt(nowMs);
  let h = head;
  let count = 0;
  let amount = 0n;
  for (let due: DueBurn | undefined = dueBurn(h, rules); due !== undefined && due.atMs <= now && count < MAX_OWED_BURNS; due = dueBurn(h, rules)) {
    h = afterBurn(h, due);
    count += 1;
    amount += due.amount;
  }
  return { count, amount, head: h };
}

function walk(
  start: ChainHead | undefined,
  blocks: readonly Uint8Array[],
  rules: ChainRules,
  options: VerifyChainOptions,
  has: (id: string) => boolean,
  add: (id: string) => void,
  openBefore: PledgeOf,
): ChainAudit {
  const latest = latestAllowed(options);
  // Pledges made or released (a value) or paid (undefined) within these blocks, over those before them.
  const pledges = new Map<string, Pledge | undefined>();
  const pledgeOf: PledgeOf = (id) => (pledges.has(id) ? pledges.get(id) : openBefore(id));
  let head = start;
  let previous: Uint8Array | undefined;
  const entries: ChainEntry[] = [];
  const check = options.checkSignature ?? cachedSignatureCheck();
  for (const bytes of blocks) {
    const opened = openOrFork(bytes, check, head, previous);
    const { block } = opened;
    if (options.expectedNodeId !== undefined && block.nodeId !== options.expectedNodeId)
      throw new ChainRefusal('wrong-node', `a block of ${short(block.nodeId)} where the chain of ${short(options.expectedNodeId)} was expected`, block.seq);
    if (head !== undefined && previous !== undefined && block.seq === head.seq && block.nodeId === head.nodeId) throw forkOrRepeat(previous, bytes, block);
    if (latest !== undefined && block.atMs > latest) throw new ChainRefusal('from-future', `dated ${block.atMs - latest} ms past the auditor's clock and allowed skew`, block.seq);
    head = applyBlock(head, opened, rules, has, pledgeOf);
    const r = opened.receipt;
    if (r !== undefined) {
      add(r.receiptId);
      const digest = opened.receiptDigest ?? '';
      if (block.kind === BlockKind.BLOCK_KIND_PLEDGE || block.kind === BlockKind.BLOCK_KIND_RELEASE)
        pledges.set(r.receiptId, { digest, amount: block.amount, released: block.kind === BlockKind.BLOCK_KIND_RELEASE });
      else if (block.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT) pledges.set(r.receiptId, undefined);
    }
    entries.push({
      seq: block.seq,
      kind: block.kind,
      amount: block.amount,
      atMs: block.atMs,
      ...(r && opened.receiptDigest ? { receipt: { receiptId: r.receiptId, payer: r.payer, payee: r.payee, digest: opened.receiptDigest } } : {}),
    });
    previous = bytes;
  }
  if (head === undefined) throw new ChainRefusal('gap', 'no blocks after the head');
  return { head, entries, ...(options.nowMs === undefined ? {} : { owed: owedBurns(head, rules, options.nowMs) }) };
}

function latestAllowed(options: VerifyChainOptions): bigint | undefined {
  if (options.nowMs === undefined) return undefined;
  const skew = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  for (const [name, value] of Object.entries({ nowMs: options.nowMs, maxSkewMs: skew })) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `verifyChain: ${name} must be a non-negative integer of ms, got ${shown(value)}`);
  }
  return BigInt(options.nowMs) + BigInt(skew);
}

/** openBlock; but a validly signed block with the previous block's seq is a fork, whatever else is wrong with it. */
function openOrFork(bytes: Uint8Array, check: SignatureCheck, head: ChainHead | undefined, previous: Uint8Array | undefined): OpenedBlock {
  try {
    return openBlock(bytes, check);
  } catch (err) {
    if (!(err instanceof ChainRefusal) || head === undefined || previous === undefined || err.seq !== head.seq) throw err;
    const { block } = openSignedBlock(bytes, check);
    if (block.nodeId !== head.nodeId) throw err;
    throw forkOrRepeat(previous, bytes, block);
  }
}

/** A second block with the previous block's seq: a fork if the node signed two different blocks. */
function forkOrRepeat(previous: Uint8Array, bytes: Uint8Array, block: ChainBlock): ChainRefusal {
  const seq = block.seq;
  if (sameBytes(previous, bytes)) return new ChainRefusal('gap', `block ${seq} appears twice in a row`, seq);
  const proof: ForkProof = { first: SignedBlock.decode(previous), second: SignedBlock.decode(bytes) };
  return new ChainRefusal('fork', `node ${short(block.nodeId)} signed two different blocks with seq ${seq}`, seq, proof);
}
