/**
 * Auditing a node's chain, from genesis or on from a head already checked: every block opened
 * (signature, fields, receipt) and applied (chain-state.ts), its balances derived, and what it owes
 * in idle burns by the auditor's clock. Two blocks with one seq, or a block whose link names another
 * block before it than the one the node signed there, come back as a fork proof (fork-proof.ts).
 */
import { BlockKind, ChainBlock, ErrorCode, SwarmError } from '@swarm/contracts';
import { openBlock, openSignedBlock } from './block';
import type { OpenedBlock } from './block';
import { ChainRefusal } from './chain-refusal';
import { provenFork, verifyForkProof } from './fork-proof';
import type { ChainRules } from './chain-rules';
import { DEFAULT_MAX_SKEW_MS, short, shown } from './chain-rules';
import type { ChainHead, DueBurn, Pledge, PledgeOf } from './chain-state';
import { afterBurn, applyBlock, dueBurn } from './chain-state';
import type { SignatureCheck } from './signing';
import { cachedSignatureCheck, sameBytes, sha256 } from './signing';

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
  /** cachedSignatureCheck by default (the process's parsed keys, and verification off the event loop). */
  readonly checkSignature?: SignatureCheck;
  /** verifyChainSuffix: the pledges not paid at the head it goes on from (none by default). */
  readonly pledgeOf?: PledgeOf;
  /**
   * verifyChainSuffix: the head's own block (its encoded SignedBlock), when the caller keeps it: a
   * first block that does not go on from it (another block of its seq, or a broken link), signed
   * by the node, is then refused as a fork with its proof rather than as a gap or a broken link.
   */
  readonly headBlock?: Uint8Array;
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
  const entries: ChainEntry[] = [];
  const check = options.checkSignature ?? cachedSignatureCheck();
  let previous = start === undefined || options.headBlock === undefined ? undefined : checkedHeadBlock(start, options.headBlock, check);
  for (const bytes of blocks) {
    let opened: OpenedBlock;
    try {
      opened = openBlock(bytes, check);
      const { block } = opened;
      if (options.expectedNodeId !== undefined && block.nodeId !== options.expectedNodeId)
        throw new ChainRefusal('wrong-node', `a block of ${short(block.nodeId)} where the chain of ${short(options.expectedNodeId)} was expected`, block.seq);
      if (head !== undefined && previous !== undefined && block.seq === head.seq && sameBytes(previous, bytes))
        throw new ChainRefusal('gap', `block ${block.seq} appears twice in a row`, block.seq);
      if (latest !== undefined && block.atMs > latest)
        throw new ChainRefusal('from-future', `dated ${block.atMs - latest} ms past the auditor's clock and allowed skew`, block.seq);
      head = applyBlock(head, opened, rules, has, pledgeOf);
    } catch (err) {
      throw previous === undefined ? err : forkOr(err, previous, bytes);
    }
    const { block } = opened;
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

/** The caller's `headBlock`, when it is the block `head` names (else the caller's mistake: INVALID_ARGUMENT). */
function checkedHeadBlock(head: ChainHead, headBlock: Uint8Array, check: SignatureCheck): Uint8Array {
  let matches = false;
  try {
    const { signed, block } = openSignedBlock(headBlock, check);
    matches = block.nodeId === head.nodeId && block.seq === head.seq && sameBytes(sha256(signed.block), head.hash);
  } catch {
    matches = false;
  }
  if (!matches) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `verifyChainSuffix: headBlock is not block ${head.seq} of ${short(head.nodeId)} as its head names it`);
  return headBlock;
}

/**
 * What a block refused after `previous` is when the node signed both and they are a fork
 * (fork-proof.ts: another block of the same seq, or a link naming another block before it than
 * `previous`), whatever else is wrong with it: a `fork` refusal with the proof. Else `err` itself.
 */
function forkOr(err: unknown, previous: Uint8Array, bytes: Uint8Array): unknown {
  if (!(err instanceof ChainRefusal) || err.reason === 'fork') return err;
  const proof = provenFork(previous, bytes);
  if (proof === undefined) return err;
  const { nodeId, seq } = verifyForkProof(proof);
  const sameSeq = proof.second !== undefined && ChainBlock.decode(proof.second.block).seq === seq;
  const message = sameSeq
    ? `node ${short(nodeId)} signed two different blocks with seq ${seq}`
    : `node ${short(nodeId)} signed block ${seq + 1n} going on from another block ${seq} than the one it signed`;
  return new ChainRefusal('fork', message, seq, proof);
}
