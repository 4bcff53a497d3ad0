/**
 * A chain's state after its last block, and the one transition every block goes through, whether a
 * node appends it or a peer audits it: seq without gaps, the hash link, time order, the genesis
 * grant and lock, balances (no overspend, no overflow), each receipt id once, and the idle burns.
 *
 * Idle drain (docs/chain.md has a worked example): epoch boundaries are the multiples of epochMs.
 * A burn is due at boundary b when b ≥ genesis at_ms + idleWindowMs, the chain holds no RECEIPT_IN
 * with b − idleWindowMs ≤ at_ms < b, and floor((available + locked) · drainPpm / 10⁶) ≥ 1; that is
 * its amount, taken from locked first. Before any block with at_ms ≥ b, the chain must hold a BURN
 * dated exactly b of exactly that amount: so the burns follow from the chain alone, and an audit sees
 * a skipped or wrong one.
 *
 * Pledges: a PLEDGE moves a receipt's amount from `available` to `pledged` before its payee is
 * asked to countersign it; the RECEIPT_OUT of the same receipt bytes moves it on to `paid`, a
 * RELEASE (its countersigned void) back to `available`. A RECEIPT_OUT with no open pledge pays
 * from `available` at once: as chains did before pledges, or a released receipt paid after all
 * (its payee broke its word on the void). Pledged credit is not burned.
 */
import type { ChainBlock } from '@swarm/contracts';
import { BlockKind } from '@swarm/contracts';
import type { OpenedBlock } from './block';
import { ChainRefusal } from './chain-refusal';
import type { ChainRules } from './chain-rules';
import { MAX_UINT64, PPM, short } from './chain-rules';
import { sameBytes } from './signing';

export interface ChainBalances {
  /** Spendable now. */
  readonly available: bigint;
  /** Genesis credit not yet unlocked by a first RECEIPT_IN. */
  readonly locked: bigint;
  /** Burned by idle drain, ever. */
  readonly burned: bigint;
  /** Received by RECEIPT_IN, ever. */
  readonly received: bigint;
  /** Paid by RECEIPT_OUT, ever. */
  readonly paid: bigint;
  /** Pledged to receipts not yet paid (PLEDGE blocks no RECEIPT_OUT or RELEASE has closed). */
  readonly pledged: bigint;
}

/** A receipt a PLEDGE holds, not paid yet: open, or released by a RELEASE. */
export interface Pledge {
  /** Hex sha256 of the pledged receipt's bytes: what a RECEIPT_OUT or RELEASE of it must hold. */
  readonly digest: string;
  readonly amount: bigint;
  /** A RELEASE undid it: the amount is available again. */
  readonly released: boolean;
}

/** The chain's pledge of a receipt id not yet paid, if any (a chain store's index, or an audit's map). */
export type PledgeOf = (receiptId: string) => Pledge | undefined;

export interface ChainHead {
  readonly nodeId: string;
  readonly publicKey: Uint8Array;
  readonly seq: bigint;
  /** sha256 of the last block's signed bytes: the next block's prev_hash. */
  readonly hash: Uint8Array;
  /** The last block's at_ms: every boundary up to it has been burned or was not due. */
  readonly atMs: bigint;
  readonly genesisAtMs: bigint;
  /** The last RECEIPT_IN's at_ms; undefined before the first (the grant is still locked). */
  readonly lastReceiptInAtMs: bigint | undefined;
  readonly balances: ChainBalances;
}

export interface DueBurn {
  /** The epoch boundary, which is also the BURN block's at_ms. */
  readonly atMs: bigint;
  readonly amount: bigint;
}

/**
 * The next idle burn after `head`, if one falls due before anything changes the holdings. Only a
 * block can change them, so a chain is checked one boundary per BURN block, never per epoch.
 */
export function dueBurn(head: ChainHead, rules: ChainRules): DueBurn | undefined {
  const { available, locked } = head.balances;
  const amount = ((available + locked) * BigInt(rules.drainPpm)) / BigInt(PPM);
  if (amount === 0n) return undefined;
  const window = BigInt(rules.idleWindowMs);
  let start = head.atMs + 1n;
  if (head.genesisAtMs + window > start) start = head.genesisAtMs + window;
  if (head.lastReceiptInAtMs !== undefined && head.lastReceiptInAtMs + window + 1n > start) start = head.lastReceiptInAtMs + window + 1n;
  const epoch = BigInt(rules.epochMs);
  return { atMs: ((start + epoch - 1n) / epoch) * epoch, amount };
}

/** The state after `head` burns `burn` (from locked first). */
export function afterBurn(head: ChainHead, burn: DueBurn): ChainHead {
  const b = head.balances;
  const fromLocked = burn.amount < b.locked ? burn.amount : b.locked;
  return { ...head, atMs: burn.atMs, balances: { ...b, locked: b.locked - fromLocked, available: b.available - (burn.amount - fromLocked), burned: b.burned + burn.amount } };
}

/**
 * The state after `opened`, or a ChainRefusal. `head` undefined: `opened` must be the genesis.
 * `hasReceipt` answers whether the chain before this block names a receipt id (in any block),
 * `pledgeOf` which of those are pledged (open, or released) and not paid.
 */
export function applyBlock(
  head: ChainHead | undefined,
  opened: Pick<OpenedBlock, 'block' | 'hash' | 'receipt' | 'receiptDigest'>,
  rules: ChainRules,
  hasReceipt: (receiptId: string) => boolean,
  pledgeOf: PledgeOf = () => undefined,
): ChainHead {
  const { block } = opened;
  if (head === undefined) return genesisHead(opened, rules);
  const seq = block.seq;
  if (block.nodeId !== head.nodeId) throw new ChainRefusal('wrong-node', `a block of ${short(block.nodeId)} in the chain of ${short(head.nodeId)}`, seq);
  if (seq !== head.seq + 1n) throw new ChainRefusal('gap', `seq ${seq} follows seq ${head.seq}`, seq);
  if (!sameBytes(block.prevHash, head.hash)) throw new ChainRefusal('broken-link', `prev_hash is not the hash of block ${head.seq}`, seq);
  if (block.atMs < head.atMs) throw new ChainRefusal('time-reversal', `at_ms is ${head.atMs - block.atMs} ms before block ${head.seq}'s`, seq);
  const burn = checkBurnOrder(head, block, rules);
  if (burn) return { ...afterBurn(head, burn), seq, hash: opened.hash };
  const moved = applyReceipt(head, opened, hasReceipt, pledgeOf);
  return { ...moved, seq, hash: opened.hash, atMs: block.atMs };
}

function genesisHead(opened: Pick<OpenedBlock, 'block' | 'hash'>, rules: ChainRules): ChainHead {
  const { block } = opened;
  if (block.seq !== 1n) throw new ChainRefusal('gap', `the chain starts at seq ${block.seq}, not 1`, block.seq);
  if (block.kind !== BlockKind.BLOCK_KIND_GENESIS) throw new ChainRefusal('bad-genesis', 'block 1 must be the GENESIS', block.seq);
  if (block.amount !== rules.genesisGrant) throw new ChainRefusal('bad-genesis', `grants ${block.amount}, the rules grant ${rules.genesisGrant}`, block.seq);
  const available = rules.starterAllowance;
  return {
    nodeId: block.nodeId,
    publicKey: block.publicKey,
    seq: 1n,
    hash: opened.hash,
    atMs: block.atMs,
    genesisAtMs: block.atMs,
    lastReceiptInAtMs: undefined,
    balances: { available, locked: rules.genesisGrant - available, burned: 0n, received: 0n, paid: 0n, pledged: 0n },
  };
}

/** The burn `block` must be (when one is due at or before its time), or undefined for any other block. */
function checkBurnOrder(head: ChainHead, block: ChainBlock, rules: ChainRules): DueBurn | undefined {
  const due = dueBurn(head, rules);
  const burning = block.kind === BlockKind.BLOCK_KIND_BURN;
  if (due !== undefined && due.atMs <= block.atMs) {
    if (!burning) throw new ChainRefusal('missing-burn', `skips the idle burn of ${due.amount} due at ${due.atMs} (no RECEIPT_IN since ${describeLastIn(head)})`, block.seq);
    if (block.atMs !== due.atMs || block.amount !== due.amount)
      throw new ChainRefusal('wrong-burn', `burns ${block.amount} at ${block.atMs}; the burn due is ${due.amount} at ${due.atMs}`, block.seq);
    return due;
  }
  if (burning)
    throw new ChainRefusal('wrong-burn', `burns ${block.amount} at ${block.atMs}, where no burn is due${due ? ` (the next is ${due.amount} at ${due.atMs})` : ''}`, block.seq);
  return undefined;
}

function applyReceipt(
  head: ChainHead,
  opened: Pick<OpenedBlock, 'block' | 'receipt' | 'receiptDigest'>,
  hasReceipt: (receiptId: string) => boolean,
  pledgeOf: PledgeOf,
): ChainHead {
  const { block, receipt } = opened;
  const seq = block.seq;
  // openBlock guarantees a verified receipt on the right side for receipt kinds; a GENESIS after seq 1 fails there too.
  if (receipt === undefined) throw new ChainRefusal('invalid-field', `a ${BlockKind[block.kind]} block without a verified receipt`, seq);
  const id = receipt.receiptId;
  const b = head.balances;
  const amount = block.amount;
  const closing = block.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT || block.kind === BlockKind.BLOCK_KIND_RELEASE;
  const pledge = closing ? pledgeOf(id) : undefined;
  // Closing a pledge, or paying a released one after all: the very receipt that was pledged.
  if (pledge && (pledge.digest !== opened.receiptDigest || pledge.amount !== amount))
    throw new ChainRefusal(
      'invalid-field',
      `${block.kind === BlockKind.BLOCK_KIND_RELEASE ? 'releases' : 'pays'} receipt ${id.slice(0, 64)} with other receipt bytes than were pledged`,
      seq,
    );
  if (pledge && !pledge.released) {
    const pledged = b.pledged - amount;
    if (block.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT) return { ...head, balances: { ...b, pledged, paid: b.paid + amount } };
    return { ...head, balances: { ...b, pledged, available: b.available + amount } };
  }
  if (block.kind === BlockKind.BLOCK_KIND_RELEASE) throw new ChainRefusal('invalid-field', `releases receipt ${id.slice(0, 64)}, which no open PLEDGE in the chain holds`, seq);
  // A released receipt may still be paid (its payee kept it after all: a void breach), once, from available.
  if (!pledge && hasReceipt(id)) throw new ChainRefusal('duplicate-receipt', `receipt ${id.slice(0, 64)} is already in the chain`, seq);
  if (block.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT || block.kind === BlockKind.BLOCK_KIND_PLEDGE) {
    if (amount > b.available) {
      const reason = amount <= b.available + b.locked ? 'spends-locked' : 'overspend';
      const verb = block.kind === BlockKind.BLOCK_KIND_PLEDGE ? 'pledges' : 'pays';
      throw new ChainRefusal(reason, `${verb} ${amount} with ${b.available} available (${b.locked} locked until the first RECEIPT_IN)`, seq);
    }
    // A RECEIPT_OUT with no open pledge pays from `available` at once (chains from before pledges, a released receipt paid after all).
    if (block.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT) return { ...head, balances: { ...b, available: b.available - amount, paid: b.paid + amount } };
    return { ...head, balances: { ...b, available: b.available - amount, pledged: b.pledged + amount } };
  }
  // The first countersigned serve for another node unlocks the rest of the grant.
  const available = b.available + b.locked + amount;
  if (available > MAX_UINT64 || b.received + amount > MAX_UINT64) throw new ChainRefusal('overflow', `receiving ${amount} overflows the balance`, seq);
  return { ...head, lastReceiptInAtMs: block.atMs, balances: { ...b, available, locked: 0n, received: b.received + amount } };
}

function describeLastIn(head: ChainHead): string {
  return head.lastReceiptInAtMs === undefined ? `genesis at ${head.genesisAtMs}` : String(head.lastReceiptInAtMs);
}
