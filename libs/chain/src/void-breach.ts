/**
 * A payee that breaks its word on a void (docs/chain.md "Voids"): it countersigned the payer's void
 * of a receipt and also holds that receipt, countersigned, as a RECEIPT_IN of its chain. Both carry
 * its signature, over the same receipt bytes, and cannot both hold; the payer, who keeps its voids,
 * finds them by reading the payee's chain (credit-svc's watch, scanForVoidBreaches; or a whole audit,
 * `swarm ledger --peer`, voidBreachWatch). The pair is a VoidBreachProof
 * anyone can check, as a fork proof is: a node that verifies one stops trusting the payee.
 */
import type { SignedReceipt, SignedVoid } from '@swarm/contracts';
import { BlockKind, CHAIN_PAGE_MAX_BLOCKS, ChainBlock, SignedBlock, VoidBreachProof } from '@swarm/contracts';
import type { FetchChainPage } from './audit-pages';
import { MAX_SIGNED_BLOCK_BYTES, openBlock, openSignedBlock, ZERO_HASH } from './block';
import { ChainRefusal } from './chain-refusal';
import { short } from './chain-rules';
import { decodeEnvelope, receiptBeforeSignatures } from './receipt';
import { hex, sameBytes, sha256 } from './signing';
import type { ChainEntry } from './verify-chain';
import { MAX_SIGNED_VOID_BYTES, verifyVoid } from './void';

/** A void, a block and two envelopes. */
export const MAX_VOID_BREACH_PROOF_BYTES = MAX_SIGNED_VOID_BYTES + MAX_SIGNED_BLOCK_BYTES + 16;

export interface VoidBreach {
  readonly receiptId: string;
  /** The block of the payee's chain that holds the voided receipt. */
  readonly seq: bigint;
  readonly amount: bigint;
  /** The countersigned void and that block: proof against the payee (verifyVoidBreachProof). */
  readonly proof: VoidBreachProof;
}

/** Whom a void breach proof convicts, and for which receipt. */
export interface VoidBreachEvidence {
  /** The payee that broke its word. */
  readonly nodeId: string;
  readonly payer: string;
  readonly receiptId: string;
  /** Its block holding the receipt. */
  readonly seq: bigint;
  /** Hex sha256 of the receipt bytes (names the kept proof). */
  readonly receiptDigest: string;
  /** The receipt as the payee's block holds it, countersigned: what its payer appends to pay it after all. */
  readonly countersigned: SignedReceipt;
}

/** A void of `payer`'s to `payee`, by the hex sha256 of the receipt it voids. */
type VoidsByDigest = ReadonlyMap<string, { readonly signedVoid: SignedVoid; readonly receiptId: string }>;

/**
 * `payer`'s voids to `payee` by receipt digest, others left out. The parties only: a void's
 * signatures are checked (with the block's) when a block matches it (breachOf), so thousands of
 * voids cost no signature checks.
 */
function voidsByDigest(payer: string, payee: string, voids: readonly SignedVoid[]): VoidsByDigest {
  const byDigest = new Map<string, { readonly signedVoid: SignedVoid; readonly receiptId: string }>();
  for (const signedVoid of voids) {
    try {
      const { receiptId } = receiptBeforeSignatures(signedVoid, { expectedPayer: payer, expectedPayee: payee });
      byDigest.set(hex(sha256(signedVoid.receipt)), { signedVoid, receiptId });
    } catch {
      continue;
    }
  }
  return byDigest;
}

/**
 * The breach a RECEIPT_IN block of a voided receipt is, proven (verifyVoidBreachProof); undefined
 * when the block voids nothing watched, or is no proof (a void or receipt whose signatures fail:
 * the audit's to refuse).
 */
function breachOf(voids: VoidsByDigest, signed: SignedBlock, block: ChainBlock): VoidBreach | undefined {
  const voided = block.kind === BlockKind.BLOCK_KIND_RECEIPT_IN && block.receipt ? voids.get(hex(sha256(block.receipt.receipt))) : undefined;
  if (voided === undefined) return undefined;
  const proof: VoidBreachProof = { signedVoid: voided.signedVoid, block: signed };
  try {
    verifyVoidBreachProof(proof);
  } catch {
    return undefined;
  }
  return { receiptId: voided.receiptId, seq: block.seq, amount: block.amount, proof };
}

/**
 * Watches a payee's chain, block by block (auditChainPages' `onEntry`), for the receipts `payer`'s
 * countersigned voids void. Voids that do not verify, or are not `payer`'s to `payee`, are left out.
 */
export function voidBreachWatch(
  payer: string,
  payee: string,
  voids: readonly SignedVoid[],
): { onEntry: (entry: ChainEntry, block: Uint8Array) => void; breaches: () => VoidBreach[] } {
  const byDigest = voidsByDigest(payer, payee, voids);
  const found: VoidBreach[] = [];
  return {
    onEntry(entry, block) {
      if (entry.kind !== BlockKind.BLOCK_KIND_RECEIPT_IN || !entry.receipt || entry.receipt.payer !== payer || !byDigest.has(entry.receipt.digest)) return;
      const signed = SignedBlock.decode(block);
      const breach = breachOf(byDigest, signed, ChainBlock.decode(signed.block));
      if (breach) found.push(breach);
    },
    breaches: () => [...found],
  };
}

/**
 * Checks a void breach proof (a decoded one, or its encoding from the wire) and says whom it
 * convicts: the void's signatures, both (a ReceiptRefusal when one fails); the block's signature
 * and every check a block passes alone (a ChainRefusal); then that the block is the payee's
 * RECEIPT_IN of the very receipt bytes the void is of (`not-a-breach` otherwise).
 */
export function verifyVoidBreachProof(proof: VoidBreachProof | Uint8Array): VoidBreachEvidence {
  // Always judged as its encoding, so a proof checked off the wire and the same proof read back
  // from a file pass or fail alike (the size bound included: no field may pad it past it).
  const bytes = proof instanceof Uint8Array ? proof : encodeVoidBreachProof(proof);
  const decoded = decodeEnvelope(bytes, MAX_VOID_BREACH_PROOF_BYTES, VoidBreachProof, 'VoidBreachProof');
  if (decoded.signedVoid === undefined || decoded.block === undefined) throw new ChainRefusal('not-a-breach', 'a void breach proof needs a countersigned void and a block');
  const receipt = verifyVoid(decoded.signedVoid);
  const opened = openBlock(SignedBlock.encode(decoded.block).finish());
  const { block } = opened;
  if (block.kind !== BlockKind.BLOCK_KIND_RECEIPT_IN) throw new ChainRefusal('not-a-breach', `block ${block.seq} is a ${BlockKind[block.kind]}, not a RECEIPT_IN`, block.seq);
  if (block.nodeId !== receipt.payee)
    throw new ChainRefusal('not-a-breach', `block ${block.seq} is of ${short(block.nodeId)}, not the void's payee ${short(receipt.payee)}`, block.seq);
  if (block.receipt === undefined || !sameBytes(block.receipt.receipt, decoded.signedVoid.receipt))
    throw new ChainRefusal('not-a-breach', `block ${block.seq} holds another receipt than the one voided`, block.seq);
  return {
    nodeId: receipt.payee,
    payer: receipt.payer,
    receiptId: receipt.receiptId,
    seq: block.seq,
    receiptDigest: opened.receiptDigest ?? hex(sha256(decoded.signedVoid.receipt)),
    countersigned: block.receipt,
  };
}

export function encodeVoidBreachProof(proof: VoidBreachProof): Uint8Array {
  return VoidBreachProof.encode(proof).finish();
}

/** Where a follower of a chain got to: the last block read, by seq and hash (seq 0: none yet). */
export interface ChainCursor {
  readonly seq: bigint;
  /** sha256 of that block's ChainBlock bytes: the next block's prev_hash. */
  readonly hash: Uint8Array;
}

export const CHAIN_START: ChainCursor = Object.freeze({ seq: 0n, hash: ZERO_HASH });

export interface VoidBreachScan {
  /** Where to go on from next time: the last block read, linked and signed. */
  readonly cursor: ChainCursor;
  readonly blocksRead: number;
  /** RECEIPT_IN blocks of voided receipts, as proofs (each verified: verifyVoidBreachProof). */
  readonly breaches: readonly VoidBreach[];
  /** Set when the chain did not go on from the cursor (not linked, or not the payee's): read it again from its start. */
  readonly broken?: string;
}

/**
 * Reads `payee`'s chain on from `from` (at most `maxBlocks` blocks, page by page) for RECEIPT_IN
 * blocks of receipts that `payer`'s countersigned voids void: the automatic watch over a node's
 * payees (credit-svc void-watch.ts). Unlike a whole audit (auditChainPages) it keeps no chain
 * state, only the cursor, so a watch over a long chain reads each block once: each block's
 * signature and its link to the one before are checked, the rest is the audit's job. A block that
 * does not go on from the cursor ends the scan with `broken` (the cursor back at the start); a
 * breach found is checked in full before it is returned.
 */
export async function scanForVoidBreaches(
  fetchPage: FetchChainPage,
  scan: {
    readonly payer: string;
    readonly payee: string;
    readonly voids: readonly SignedVoid[];
    readonly from: ChainCursor;
    readonly maxBlocks: number;
    /** Blocks asked a page, 1..CHAIN_PAGE_MAX_BLOCKS (default the most). */
    readonly pageLimit?: number;
    /** Asked before each page: true ends the scan where it got to (a time budget). */
    readonly stop?: () => boolean;
  },
): Promise<VoidBreachScan> {
  const byDigest = voidsByDigest(scan.payer, scan.payee, scan.voids);
  const breaches: VoidBreach[] = [];
  let cursor = scan.from;
  let blocksRead = 0;
  const pageLimit = Math.max(1, Math.min(Math.floor(scan.pageLimit ?? CHAIN_PAGE_MAX_BLOCKS), CHAIN_PAGE_MAX_BLOCKS)) || CHAIN_PAGE_MAX_BLOCKS;
  while (blocksRead < scan.maxBlocks && !(scan.stop?.() ?? false)) {
    const limit = Math.min(pageLimit, scan.maxBlocks - blocksRead);
    const page = await fetchPage(cursor.seq + 1n, limit);
    for (const bytes of page.blocks.slice(0, limit)) {
      let opened: { readonly signed: SignedBlock; readonly block: ChainBlock };
      try {
        opened = openSignedBlock(bytes);
      } catch (err) {
        return { cursor: CHAIN_START, blocksRead, breaches, broken: `block ${cursor.seq + 1n}: ${err instanceof Error ? err.message : String(err)}` };
      }
      const { block, signed } = opened;
      const broken =
        block.nodeId !== scan.payee
          ? `block ${block.seq} is of ${short(block.nodeId)}, not ${short(scan.payee)}`
          : block.seq !== cursor.seq + 1n
            ? `block ${block.seq} came where ${cursor.seq + 1n} was asked`
            : !sameBytes(block.prevHash, cursor.hash)
              ? `block ${block.seq} does not link to block ${cursor.seq} as read before`
              : undefined;
      if (broken !== undefined) return { cursor: CHAIN_START, blocksRead, breaches, broken };
      blocksRead += 1;
      cursor = { seq: block.seq, hash: sha256(signed.block) };
      const breach = breachOf(byDigest, signed, block);
      if (breach) breaches.push(breach);
    }
    if (page.blocks.length < limit || cursor.seq >= page.headSeq) break;
  }
  return { cursor, blocksRead, breaches };
}

/**
 * The cursor at `payee`'s last block, when its chain is longer than `past` blocks (undefined when
 * not, or when that block is not the payee's, signed, at the head it named): where a watch that
 * starts over reads on from, so that blocks appended from now are read at once while a catch-up
 * goes over the ones before. Two pages of one block each.
 */
export async function chainHeadCursor(fetchPage: FetchChainPage, payee: string, past: bigint): Promise<ChainCursor | undefined> {
  const { headSeq } = await fetchPage(1n, 1);
  if (headSeq <= past) return undefined;
  const [bytes] = (await fetchPage(headSeq, 1)).blocks;
  if (bytes === undefined) return undefined;
  try {
    const { signed, block } = openSignedBlock(bytes);
    return block.nodeId === payee && block.seq === headSeq ? { seq: block.seq, hash: sha256(signed.block) } : undefined;
  } catch {
    return undefined;
  }
}
