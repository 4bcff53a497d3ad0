/**
 * The node's own chain (docs/chain.md), kept by the ledger in the same store and the same batches
 * as its accounts, so that a settle and the receipts it owes other nodes are one atomic write.
 *
 * - Paying another node: a settle whose payout goes to another node's id signs a receipt (payer
 *   side), appends its PLEDGE to the chain and puts it in the outbox, in the settle's batch.
 *   credit-svc delivers it through the gateways (its payee countersigns only a receipt it reads
 *   pledged in this chain); when it comes back countersigned, `completeReceipt` appends it as
 *   RECEIPT_OUT, which closes the pledge.
 * - Being paid: `acceptReceipt` countersigns a peer's receipt, appends it as RECEIPT_IN and credits
 *   the node's account (a RECEIPT_IN ledger entry), once per receipt id; a retry gets the same
 *   countersigned receipt back and changes nothing.
 * - Pledges: what the chain may still pay is its `available` (the genesis lock and idle burns
 *   included; receipts in flight are pledged in the chain, out of it) less what is reserved here:
 *   every open escrow that names another node as a payee (its whole amount: all of it may go
 *   there), and any receipt an older build left in the outbox unpledged. A reserve beyond that is
 *   refused, so a PLEDGE never overspends the chain. Spending between the node's own accounts
 *   (its agents, tasks run on its own executors) moves nothing between chains and pledges nothing.
 * - Voids: a receipt its payee refuses for good is voided (void-book.ts): a RELEASE block undoes its
 *   pledge.
 * - Idle burns are appended before any block and by `appendDueBurns` at epoch boundaries; they
 *   change the chain, not the local accounts (what the chain may pay already counts them).
 */
import type { ChainHead, ChainRules, ChainSigner } from '@swarm/chain';
import {
  appendDueBurns,
  MAX_RECEIPT_AHEAD_MS,
  appendPledge,
  appendReceipt,
  appendRelease,
  cachedSignatureCheck,
  ChainRefusal,
  countersignReceipt,
  createGenesis,
  decodeSignedReceipt,
  decodeSignedVoid,
  dueBurn,
  encodeSignedReceipt,
  hex,
  makeReceipt,
  MAX_RECEIPT_BYTES,
  openBlock,
  proveReceiptSignatures,
  receiptIdOf,
  ReceiptRefusal,
  receiptSigningBytes,
  rememberingSignatureCheck,
  sameBytes,
  sha256,
  verifyReceipt,
} from '@swarm/chain';
import type { AppendReceiptOptions, Pledge } from '@swarm/chain';
import type {
  AcceptReceiptRequest,
  AcceptVoidRequest,
  AcceptVoidResponse,
  ChainBlocksResponse,
  ReinstateVoidedResponse,
  SettleRequest,
  SignedReceipt,
  SignedVoid,
  VoidBreachProof,
} from '@swarm/contracts';
import { BlockKind, CHAIN_PAGE_MAX_BYTES, ChainBlock, chainPageLimit, ErrorCode, isSwarmError, Receipt, SignedBlock, SwarmError } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import { NODE_ID, nodeIdOfKey, SERVE_TICKET_BYTES } from '@swarm/records';
import { decodeHead, decodeSeq, encodeHead, encodeSeq, HEAD_KEY, metaUint, metaUintWrite, RESERVED_KEY, seqKey, sideOnly } from './chain-records';
import type { LedgerHooks } from './create-ledger';
import type { Committed, Ledger } from './ledger';
import type { Escrow } from './ledger-records';
import { paidOut } from './ledger-records';
import type { Change, Stamp } from './ledger-rules';
import { receiptInRule } from './ledger-rules';
import type { SideWrite } from './ledger-store';
import type { RecordView } from './staged-batch';
import type { Voided } from './void-book';
import { createVoidBook, voidedIn } from './void-book';

/** Blocks read from the store at a time while a page fills. */
const CHAIN_READ_STEP = 64;

export interface ChainBookInit {
  /** The node key: its id names the chain. */
  readonly signer: ChainSigner;
  /** The ledger account receipts paid to this node credit: the node id (tests may name another). */
  readonly nodeAccount: string;
  readonly rules: ChainRules;
  readonly clock: WallClock;
  /** Whether a payer's chain pledges its receipt, asked before each RECEIPT_IN (credit-svc reads payers' chains); absent: not asked. */
  readonly payers?: PayerCheck;
}

/**
 * Whether a payer's chain pledges a receipt to this node (docs/chain.md "Payers' chains"): an open
 * PLEDGE of the very receipt bytes, `digest` (hex sha256 of them).
 */
export interface PayerCheck {
  /** Before the ledger's turn: reads on the payer's chain when what was read of it holds no such pledge. Never throws. */
  prepare(payer: string, receiptId: string, digest: string): Promise<void>;
  /**
   * In the turn: passes when the chain read holds the pledge; throws ReceiptRefusal `not-pledged`
   * when a read made after the receipt came, up to the head the payer then reported, holds none
   * (the verdict that lets a void off); else a retryable SwarmError (not read yet, or not
   * readable), which lets nothing off.
   */
  check(payer: string, receiptId: string, digest: string): void;
}

/** A receipt waiting in the outbox for its payee's countersignature. */
export interface PendingReceipt {
  readonly receiptId: string;
  readonly payee: string;
  readonly amount: bigint;
  readonly signed: SignedReceipt;
  /** Set once its payee refused it for good: the void of it this node signed, to send instead. */
  readonly voiding?: SignedVoid;
}

export interface ChainBook {
  readonly nodeId: string;
  /** Give these to createLedger: pledges and receipts ride in the operations' own batches. */
  readonly hooks: LedgerHooks;
  /**
   * Once the ledger is open: writes the genesis block on a first start, checks the head otherwise.
   * `chainStarted`: this node's key has had a chain before (the caller keeps that fact beside the
   * key). Then a ledger without one is refused: a second genesis, or any block again at a seq it
   * signed before, is a fork proof against the node.
   */
  open(ledger: Ledger, options?: { readonly chainStarted?: boolean }): Promise<void>;
  /** The durable head. */
  head(): ChainHead;
  /** Pledged to other nodes: reserved here for open escrows (and older builds' receipts), and pledged in the chain to receipts in flight. */
  pledged(): bigint;
  /** This node's receipts that their payees voided so far, and their amounts together. */
  voided(): Voided;
  /** The countersigned receipt, and the RECEIPT_IN ledger entry it committed (none for a retry). */
  acceptReceipt(req: AcceptReceiptRequest): Promise<Committed<SignedReceipt>>;
  /** The payee's countersigned answer to an outbox receipt: appended as RECEIPT_OUT, once. */
  completeReceipt(countersigned: SignedReceipt): Promise<void>;
  /**
   * From now on the outbox asks the payee to void this receipt instead of countersigning it (its
   * payee refused it for good). False when no such receipt waits in the outbox.
   */
  startVoid(receiptId: string): Promise<boolean>;
  /** Sends the receipt again instead of its void (its payee predates voids); false when no void was asked. */
  cancelVoid(receiptId: string): Promise<boolean>;
  /**
   * A peer's void of its receipt to this node: the receipt countersigned, when this node did so
   * before or would now (with its RECEIPT_IN entry); else the void countersigned, and then this node
   * never countersigns that receipt. The same answer for the same void again.
   */
  acceptVoid(req: AcceptVoidRequest): Promise<Committed<AcceptVoidResponse>>;
  /**
   * The payee's countersigned void of an outbox receipt: the receipt leaves the outbox, its pledge is
   * released, and a VOID ledger entry takes back what the payee's account here holds of its amount.
   */
  completeVoid(countersigned: SignedVoid): Promise<Committed<bigint>>;
  /**
   * A void breach proof against one of this node's payees (it countersigned the void of a receipt
   * and holds the receipt in its chain anyway): the receipt is paid after all, appended as
   * RECEIPT_OUT (taken from the payee's block, countersigned) with a REINSTATE ledger entry that
   * returns what its VOID took back from the node's account to the payee's, so both chains hold it
   * again, and it no longer counts as voided. Once: the same proof again answers
   * `alreadyReinstated`. INSUFFICIENT_CREDIT, nothing changed, while the chain or the node's account
   * cannot pay it.
   */
  reinstateVoided(proof: VoidBreachProof): Promise<Committed<ReinstateVoidedResponse>>;
  /** A page of the voids this node's payees countersigned (PaidVoidsRequest), in receipt id order. */
  paidVoids(afterId: string, limit: number): Promise<{ voids: SignedVoid[]; nextAfterId: string }>;
  /** Up to `limit` receipts in the outbox, in receipt id order, after `afterId` when given. */
  pending(limit: number, afterId?: string): Promise<PendingReceipt[]>;
  blocks(fromSeq: bigint, limit: number): Promise<ChainBlocksResponse>;
  /** Appends the idle burns due by now; how many. */
  appendDueBurns(): Promise<number>;
}

type View = Pick<RecordView, 'side' | 'escrow' | 'account'>;
type ChainIndex = Required<Pick<AppendReceiptOptions, 'hasReceipt' | 'pledgeOf'>>;

export function createChainBook(init: ChainBookInit): ChainBook {
  const { signer, rules, clock } = init;
  const nodeId = nodeIdOfKey(signer.publicKey);
  let ledger: Ledger | undefined;
  // Decoded heads by their stored bytes: a view reads the same record many times between writes.
  let lastHeadBytes: Uint8Array | undefined;
  let lastHead: ChainHead | undefined;
  // Parsing a raw key costs about a verification (a node meets the same few keys again and again),
  // and one receipt is checked on arrival, when countersigned and when appended: one verification
  // does for all three, made on the thread pool before the operation's turn (proveReceiptSignatures),
  // so the ledger's serial turns only find it remembered. What this node signed itself needs none.
  const checkSignature = rememberingSignatureCheck(cachedSignatureCheck());
  const receiptSigner: ChainSigner = {
    publicKey: signer.publicKey,
    sign(data) {
      const signature = signer.sign(data);
      checkSignature.remember(signer.publicKey, data, signature);
      return signature;
    },
  };

  const opened = (): Ledger => {
    if (!ledger) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the chain book is not open yet', true);
    return ledger;
  };
  const headIn = (view: Pick<View, 'side'>): ChainHead => {
    const bytes = view.side('meta', HEAD_KEY);
    if (!bytes) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the chain has no genesis block yet', true);
    if (bytes !== lastHeadBytes) {
      lastHead = decodeHead(bytes);
      lastHeadBytes = bytes;
    }
    return lastHead as ChainHead;
  };
  const reservedIn = (view: Pick<View, 'side'>): bigint => metaUint(view, RESERVED_KEY, 'the reserve record');
  /** The chain's pledge of a receipt id not yet paid (its PLEDGE or RELEASE is the block the receipt index names), if any. */
  const chainPledgeOf = (view: Pick<View, 'side'>, receiptId: string): Pledge | undefined => {
    const seq = view.side('receipt', receiptId);
    const bytes = seq && view.side('block', seqKey(decodeSeq(seq)));
    if (!bytes) return undefined;
    // This node's own block, checked when appended: decoded, not verified again.
    const block = ChainBlock.decode(SignedBlock.decode(bytes).block);
    if (block.kind === BlockKind.BLOCK_KIND_PLEDGE && block.receipt) return { digest: hex(sha256(block.receipt.receipt)), amount: block.amount, released: false };
    if (block.kind === BlockKind.BLOCK_KIND_RELEASE && block.releasedVoid) return { digest: hex(sha256(block.releasedVoid.receipt)), amount: block.amount, released: true };
    return undefined;
  };
  /**
   * Whether an outbox receipt is pledged in the chain (this build pledges what it signs; a receipt an
   * older build left unpledged and the chain could not pledge at open is reserved here instead).
   * A receipt still in the outbox whose pledge was released is a corrupt store: refused, not guessed.
   */
  const pledgedInChain = (index: ChainIndex, receiptId: string): boolean => {
    const pledge = index.pledgeOf(receiptId);
    if (pledge?.released) throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `ledger store: receipt ${receiptId.slice(0, 80)} waits in the outbox, but its pledge was released`);
    return pledge !== undefined;
  };
  /** The chain's receipt index for one operation's turn: each pledge looked up (a block decoded) once. */
  const chainIndexOf = (view: Pick<View, 'side'>): ChainIndex => {
    const pledges = new Map<string, Pledge | undefined>();
    return {
      hasReceipt: (id) => view.side('receipt', id) !== undefined,
      pledgeOf: (id) => {
        if (!pledges.has(id)) pledges.set(id, chainPledgeOf(view, id));
        return pledges.get(id);
      },
    };
  };
  const isRemote = (account: string) => account !== nodeId && account !== init.nodeAccount && NODE_ID.test(account);
  const reserveOf = (e: Escrow | undefined): bigint => (e?.state === 'open' && e.payees?.some(isRemote) ? e.amount : 0n);

  /** The blocks an append returned, their receipt index entry (the last block's), and the new head. */
  const chainWrites = (before: ChainHead, blocks: readonly Uint8Array[], head: ChainHead, receiptId?: string): SideWrite[] => {
    const writes: SideWrite[] = blocks.map((value, i) => ({ space: 'block', key: seqKey(before.seq + 1n + BigInt(i)), value }));
    if (receiptId !== undefined) writes.push({ space: 'receipt', key: receiptId, value: encodeSeq(head.seq) });
    return [...writes, ...headWrites(head)];
  };
  /** The new head, as the next operation of the group reads it. */
  const headWrites = (head: ChainHead): SideWrite[] => {
    const writes: SideWrite[] = [];
    const bytes = encodeHead(head);
    // The next operation of the group reads these very bytes back: no need to decode them.
    lastHeadBytes = bytes;
    lastHead = head;
    writes.push({ space: 'meta', key: HEAD_KEY, value: bytes });
    return writes;
  };

  /** The receipts a settle owes other nodes, signed now. */
  const receiptsOf = (view: View, escrow: Escrow, req: SettleRequest | undefined, atMs: number): PendingReceipt[] => {
    const remote = paidOut(escrow).filter((p) => isRemote(p.payee));
    if (remote.length === 0) return [];
    const task = req?.task;
    if (!task) throw invalid(`the settle of ${escrow.id} pays another node: it must name the task (task id, hashes, payee keys) for the receipt`);
    const taskId = task.taskId === '' ? escrow.id : task.taskId;
    return remote.map((p) => {
      const named = task.payeeKeys.find((k) => k.nodeId === p.payee);
      if (!named || nodeIdOfKey(named.publicKey) !== p.payee) throw invalid(`the settle of ${escrow.id} names no public key of payee ${p.payee.slice(0, 12)}`);
      // The payee countersigns only with its ticket: a receipt without it would stay pledged for ever.
      if (named.serveTicket.length !== SERVE_TICKET_BYTES)
        throw invalid(`the settle of ${escrow.id} names no ${SERVE_TICKET_BYTES}-byte serve ticket of payee ${p.payee.slice(0, 12)} (got ${named.serveTicket.length} bytes)`);
      const receiptId = receiptIdOf(taskId, nodeId, p.payee);
      if (view.side('outbox', receiptId) || view.side('receipt', receiptId) || view.side('void', receiptId)) throw invalid(`receipt ${receiptId.slice(0, 80)} already exists`);
      const signed = makeReceipt(
        {
          payeePublicKey: named.publicKey,
          amount: p.amount,
          taskId,
          taskHash: task.taskHash,
          resultHash: task.resultHash,
          shares: task.shares,
          atMs,
          serveTicket: named.serveTicket,
        },
        receiptSigner,
      );
      return { receiptId, payee: p.payee, amount: p.amount, signed };
    });
  };

  const hooks: LedgerHooks = {
    afterRule(view, change, settle) {
      let delta = 0n;
      const writes: SideWrite[] = [];
      const receipts: PendingReceipt[] = [];
      for (const e of change.escrows) {
        const was = view.escrow(e.id);
        delta += reserveOf(e) - reserveOf(was);
        // A charge (never open, so never pledged) must not pay another node: its receipt would overspend.
        if (e.state === 'settled' && !was && paidOut(e).some((p) => isRemote(p.payee)))
          throw invalid(`charge ${e.id} pays another node: that needs a reserve, which pledges the amount against this node's chain`);
        if (e.state !== 'settled' || was?.state !== 'open') continue;
        receipts.push(...receiptsOf(view, e, settle, clock.now()));
      }
      if (receipts.length > 0) writes.push(...pledgeInChain(view, receipts));
      if (delta === 0n) return writes;
      const reserved = reservedIn(view);
      if (delta > 0n) requireRoom(view, reserved, delta);
      return [...writes, metaUintWrite(RESERVED_KEY, reserved + delta)];
    },
  };

  /**
   * The PLEDGE of each receipt a settle signed, appended in the settle's batch with the receipts'
   * outbox records: from here on the chain holds their amounts, and their escrows' reserve is gone.
   */
  const pledgeInChain = (view: View, receipts: readonly PendingReceipt[]): SideWrite[] => {
    const before = headIn(view);
    const index = chainIndexOf(view);
    const blocks: Uint8Array[] = [];
    const writes: SideWrite[] = [];
    let head = before;
    for (const r of receipts) {
      const appended = appendPledge(head, r.signed, signer, rules, { atMs: clock.now(), hasReceipt: index.hasReceipt, checkSignature });
      blocks.push(...appended.blocks);
      head = appended.head;
      writes.push({ space: 'outbox', key: r.receiptId, value: encodeSignedReceipt(r.signed) }, { space: 'receipt', key: r.receiptId, value: encodeSeq(head.seq) });
    }
    return [...chainWrites(before, blocks, head), ...writes];
  };

  /**
   * Refuses (INSUFFICIENT_CREDIT) `more` to pay other nodes beyond what the chain may: its
   * `available` less what is reserved here. An idle burn falling due before the settle pledges the
   * receipts takes from `available` what `locked` cannot cover: room is kept for the next one
   * within an epoch, so a task settled across that boundary can still be pledged (once pledged, no
   * burn touches it).
   */
  const requireRoom = (view: Pick<View, 'side'>, reserved: bigint, more: bigint): void => {
    const head = headIn(view);
    const { available, locked } = head.balances;
    const burn = dueBurn(head, rules);
    const margin = burn && burn.atMs <= BigInt(clock.now()) + BigInt(rules.epochMs) && burn.amount > locked ? burn.amount - locked : 0n;
    if (reserved + more + margin <= available) return;
    const room = available > reserved + margin ? available - reserved - margin : 0n;
    throw new SwarmError(
      ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
      `this node's chain can pay other nodes ${room} more, and this needs ${more} (available ${available} once ${head.balances.pledged} is pledged to receipts in flight, reserved for tasks in flight ${reserved}` +
        (margin > 0n ? `, ${margin} kept for the idle burn due` : '') +
        (locked > 0n ? `, ${locked} locked until this node is first paid by another node for serving it, by a receipt in its chain)` : ')'),
    );
  };

  /** A receipt not yet in the chain, countersigned, appended as RECEIPT_IN and credited: the change, or its refusal. */
  const receiptIn = (view: View, at: Stamp, offered: SignedReceipt, receipt: Receipt): Change<SignedReceipt> => {
    init.payers?.check(receipt.payer, receipt.receiptId, hex(sha256(offered.receipt)));
    const countersigned = countersignReceipt(offered, receiptSigner, { checkSignature });
    const before = headIn(view);
    const appended = appendReceipt(before, countersigned, signer, rules, {
      atMs: at.atMs,
      hasReceipt: (id) => view.side('receipt', id) !== undefined,
      checkSignature,
      maxSkewMs: MAX_RECEIPT_AHEAD_MS,
    });
    const credit = receiptInRule(init.nodeAccount, view.account(init.nodeAccount), receipt, at);
    const side = chainWrites(before, appended.blocks, appended.head, receipt.receiptId);
    return { ...credit, result: countersigned, side };
  };
  /** Reads on the payer's chain when what was read holds no pledge of `receipt` (PayerCheck.prepare); its verdict comes in the ledger's turn. */
  const preparePayer = async (receipt: Receipt, receiptBytes: Uint8Array): Promise<void> => {
    await init.payers?.prepare(receipt.payer, receipt.receiptId, hex(sha256(receiptBytes)));
  };

  /** The countersigned receipt already in the chain under `receiptId`, if any. */
  const storedReceipt = (view: Pick<View, 'side'>, receiptId: string): SignedReceipt | undefined => {
    const seq = view.side('receipt', receiptId);
    if (!seq) return undefined;
    const block = view.side('block', seqKey(decodeSeq(seq)));
    const opened = block && openBlock(block, checkSignature).block;
    if (!opened) throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `ledger store: receipt ${receiptId.slice(0, 80)} is indexed but its block is missing`);
    // A PLEDGE (not countersigned yet) or a RELEASE (voided): not a receipt this chain holds countersigned.
    if (opened.kind === BlockKind.BLOCK_KIND_PLEDGE || opened.kind === BlockKind.BLOCK_KIND_RELEASE) return undefined;
    if (!opened.receipt) throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `ledger store: receipt ${receiptId.slice(0, 80)} is indexed at a block without one`);
    return opened.receipt;
  };

  /**
   * A payee's answer whose receipt bytes and payer signature are those in this node's outbox
   * carries this node's own signature (the outbox is written only after signing): remembered as
   * good, so it is not verified again, however long ago it was signed.
   */
  const vouchForOwn = (l: Ledger, signed: SignedReceipt): boolean => {
    if (signed.receipt.length > MAX_RECEIPT_BYTES) return false;
    let receiptId: string;
    try {
      receiptId = Receipt.decode(signed.receipt).receiptId;
    } catch {
      return false;
    }
    const kept = l.side('outbox', receiptId);
    if (!kept) return false;
    const mine = decodeSignedReceipt(kept);
    if (!sameBytes(mine.receipt, signed.receipt) || !sameBytes(mine.payerSignature, signed.payerSignature)) return false;
    checkSignature.remember(signer.publicKey, receiptSigningBytes(mine.receipt), mine.payerSignature);
    return true;
  };

  /**
   * A receipt countersigned by its payee appended as RECEIPT_OUT now, not from the outbox (a voided
   * receipt paid after all): not pledged before, so it must fit beside every pledge already made.
   */
  const receiptOut = (view: View, at: Stamp, countersigned: SignedReceipt, receipt: Receipt): SideWrite[] => {
    requireRoom(view, reservedIn(view), receipt.amount);
    const before = headIn(view);
    const appended = appendReceipt(before, countersigned, signer, rules, { atMs: at.atMs, ...chainIndexOf(view), checkSignature });
    return chainWrites(before, appended.blocks, appended.head, receipt.receiptId);
  };
  /** An outbox receipt's void countersigned by its payee: its pledge released by a RELEASE block (or, for an older build's receipt, the reserve here). */
  const releaseOut = (view: View, at: Stamp, countersigned: SignedVoid, receipt: Receipt): SideWrite[] => {
    const index = chainIndexOf(view);
    if (!pledgedInChain(index, receipt.receiptId)) return [metaUintWrite(RESERVED_KEY, reservedIn(view) - receipt.amount)];
    const before = headIn(view);
    const appended = appendRelease(before, countersigned, signer, rules, { atMs: at.atMs, ...index, checkSignature });
    return chainWrites(before, appended.blocks, appended.head, receipt.receiptId);
  };

  /**
   * Receipts an older build left in the outbox were reserved here, never pledged in the chain, and
   * payees now countersign only pledged ones: at open they are pledged, in one batch, their reserve
   * released (a receipt the chain cannot pledge stays reserved, and its payee will refuse it: it is
   * voided). The records the payer check before pledges kept (`received:`) go in the same batch.
   */
  const pledgeOlderOutbox = async (l: Ledger): Promise<void> => {
    const older: PendingReceipt[] = [];
    for (let after: string | undefined; ;) {
      const page = await book.pending(CHAIN_READ_STEP, after);
      older.push(...page.filter((p) => !l.side('receipt', p.receiptId)));
      if (page.length < CHAIN_READ_STEP) break;
      after = page[page.length - 1].receiptId;
    }
    const stale: string[] = [];
    for (let from = 'received'; ;) {
      const keys = (await l.sideRange('meta', from, CHAIN_READ_STEP)).map((r) => r.key).filter((k) => k.startsWith('received'));
      stale.push(...keys.filter((k) => k.startsWith('received:') || k === 'received-counted-through'));
      if (keys.length < CHAIN_READ_STEP) break;
      from = `${keys[keys.length - 1]}\u0000`;
    }
    if (older.length === 0 && stale.length === 0) return;
    await l.run((view, at) => {
      const writes: SideWrite[] = stale.map((key) => ({ space: 'meta', key, value: undefined }));
      const before = headIn(view);
      const blocks: Uint8Array[] = [];
      let head = before;
      let released = 0n;
      for (const r of older) {
        try {
          const appended = appendPledge(head, r.signed, signer, rules, { atMs: at.atMs, hasReceipt: (id) => view.side('receipt', id) !== undefined, checkSignature });
          blocks.push(...appended.blocks);
          head = appended.head;
          released += r.amount;
          writes.push({ space: 'receipt', key: r.receiptId, value: encodeSeq(head.seq) });
        } catch (err) {
          // No room in the chain, or dated ahead of a clock that went back: it stays reserved (its payee voids it, or a later start pledges it).
          // Anything else (a record this node did not sign, a broken head) is a corrupt store, which stops the start.
          const passing = isSwarmError(err, ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT) || (err instanceof ReceiptRefusal && err.reason === 'dated-ahead');
          if (!passing) throw err;
        }
      }
      if (blocks.length > 0) writes.push(...chainWrites(before, blocks, head), metaUintWrite(RESERVED_KEY, reservedIn(view) - released));
      return sideOnly(undefined, writes);
    });
  };

  const voids = createVoidBook({
    nodeId,
    nodeAccount: init.nodeAccount,
    signer: receiptSigner,
    checkSignature,
    storedReceipt,
    receiptIn,
    receiptOut,
    releaseOut,
    preparePayer,
  });

  const book: ChainBook = {
    nodeId,
    hooks,
    async open(l, options = {}) {
      ledger = l;
      const head = l.side('meta', HEAD_KEY);
      if (!head) {
        if (options.chainStarted) {
          throw new SwarmError(
            ErrorCode.ERROR_CODE_INTERNAL,
            `node ${nodeId.slice(0, 12)} started its chain before, but this ledger holds none (deleted, or restored from before the chain began): ` +
              'a new genesis would sign block 1 again, which peers hold as proof of a fork; restore the ledger, or run a new node with a new key',
          );
        }
        await l.run((_view, at) => {
          const g = createGenesis(signer, rules, at.atMs);
          return sideOnly(undefined, [
            { space: 'block', key: seqKey(1n), value: g.blocks[0] },
            { space: 'meta', key: HEAD_KEY, value: encodeHead(g.head) },
          ]);
        });
        return;
      }
      const h = headIn(l);
      if (h.nodeId !== nodeId)
        throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `the ledger's chain is node ${h.nodeId.slice(0, 12)}'s, not this node's (${nodeId.slice(0, 12)})`);
      const last = l.side('block', seqKey(h.seq));
      if (!last || !sameBytes(openBlock(last).hash, h.hash))
        throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `ledger store: the chain head (seq ${h.seq}) does not match its last block`);
      await pledgeOlderOutbox(l);
    },
    head: () => headIn(opened()),
    pledged: () => reservedIn(opened()) + headIn(opened()).balances.pledged,
    voided: () => voidedIn(opened()),
    async acceptReceipt(req) {
      const l = opened();
      if (!req.receipt) throw invalid('receipt is required');
      const offered = req.receipt;
      await proveReceiptSignatures(offered, checkSignature, { payer: true, payee: false }, { expectedPayee: nodeId, expectedPayer: req.fromNodeId });
      const receipt = verifyReceipt(offered, { countersigned: false, expectedPayee: nodeId, checkSignature });
      if (receipt.payer !== req.fromNodeId) {
        throw new SwarmError(
          ErrorCode.ERROR_CODE_PERMISSION_DENIED,
          `receipt ${receipt.receiptId.slice(0, 80)} is paid by ${receipt.payer.slice(0, 12)}, not by the node that sent it`,
        );
      }
      if (!l.side('receipt', receipt.receiptId) && !l.side('void', receipt.receiptId)) await preparePayer(receipt, offered.receipt);
      return l.run((view, at) => {
        const stored = storedReceipt(view, receipt.receiptId);
        if (stored) {
          if (!sameBytes(stored.receipt, offered.receipt)) throw invalid(`receipt ${receipt.receiptId.slice(0, 80)} is already in this chain with other contents`);
          return sideOnly(stored, []);
        }
        if (view.side('void', receipt.receiptId)) throw new ReceiptRefusal('voided', `this node voided receipt ${receipt.receiptId.slice(0, 80)} at its payer's request`);
        return overflowAsVerdict(() => receiptIn(view, at, offered, receipt));
      });
    },
    async completeReceipt(countersigned) {
      const l = opened();
      // Only an answer to a receipt still waiting in the outbox is worth a verification ahead: any
      // other is refused, or answered as already appended, in its turn.
      if (vouchForOwn(l, countersigned)) await proveReceiptSignatures(countersigned, checkSignature, { payer: false, payee: true });
      const receipt = verifyReceipt(countersigned, { expectedPayer: nodeId, checkSignature });
      await l.run((view, at) => {
        const waiting = view.side('outbox', receipt.receiptId);
        if (!waiting) {
          if (storedReceipt(view, receipt.receiptId)) return sideOnly(undefined, []);
          throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `no receipt ${receipt.receiptId.slice(0, 80)} is waiting for its payee`);
        }
        const mine = decodeSignedReceipt(waiting);
        if (!sameBytes(mine.receipt, countersigned.receipt) || !sameBytes(mine.payerSignature, countersigned.payerSignature)) {
          throw new SwarmError(ErrorCode.ERROR_CODE_PERMISSION_DENIED, `the countersigned receipt ${receipt.receiptId.slice(0, 80)} is not the one this node signed`);
        }
        const before = headIn(view);
        const index = chainIndexOf(view);
        const inChain = pledgedInChain(index, receipt.receiptId);
        const appended = appendReceipt(before, countersigned, signer, rules, { atMs: at.atMs, ...index, checkSignature });
        return sideOnly(undefined, [
          ...chainWrites(before, appended.blocks, appended.head, receipt.receiptId),
          { space: 'outbox', key: receipt.receiptId, value: undefined },
          // A void asked of the payee, answered by the receipt countersigned before it: no longer asked.
          { space: 'void', key: receipt.receiptId, value: undefined },
          ...(inChain ? [] : [metaUintWrite(RESERVED_KEY, reservedIn(view) - receipt.amount)]),
        ]);
      });
    },
    reinstateVoided: (proof) => voids.reinstate(opened(), proof),
    startVoid: (receiptId) => voids.start(opened(), receiptId),
    cancelVoid: (receiptId) => voids.cancel(opened(), receiptId),
    acceptVoid: (req) => voids.accept(opened(), req),
    completeVoid: (countersigned) => voids.complete(opened(), countersigned),
    paidVoids: (afterId, limit) => voids.paid(opened(), afterId, limit),
    async pending(limit, afterId) {
      // Keys are printable ASCII: the id followed by NUL is the first key after it.
      const rows = await opened().sideRange('outbox', afterId === undefined ? '' : `${afterId}\u0000`, limit);
      // Read back as this node wrote them (the settle hook signed them): decoded, not verified again,
      // since the outbox walk reads every stuck receipt at each pass.
      const l = opened();
      return rows.map(({ key, value }) => {
        const signed = decodeSignedReceipt(value);
        const r = Receipt.decode(signed.receipt);
        const asked = l.side('void', key);
        return { receiptId: key, payee: r.payee, amount: r.amount, signed, ...(asked ? { voiding: decodeSignedVoid(asked) } : {}) };
      });
    },
    async blocks(fromSeq, limit) {
      const l = opened();
      const want = chainPageLimit(limit);
      const head = headIn(l);
      const blocks: Uint8Array[] = [];
      let bytes = 0;
      // Read in small steps, so a page of large blocks reads little more than it returns.
      for (let next = fromSeq < 1n ? 1n : fromSeq; next <= head.seq && blocks.length < want;) {
        const rows = await l.sideRange('block', seqKey(next), Math.min(CHAIN_READ_STEP, want - blocks.length));
        if (rows.length === 0) break;
        for (const { value } of rows) {
          // Always at least one block, so a page never comes back empty before the head.
          if (blocks.length > 0 && bytes + value.length > CHAIN_PAGE_MAX_BYTES) return { blocks, headSeq: head.seq, nodeId };
          blocks.push(value);
          bytes += value.length;
        }
        next += BigInt(rows.length);
      }
      return { blocks, headSeq: head.seq, nodeId };
    },
    async appendDueBurns() {
      const l = opened();
      const due = dueBurn(headIn(l), rules);
      if (!due || due.atMs > BigInt(clock.now())) return 0;
      const done = await l.run((view, at) => {
        const before = headIn(view);
        const appended = appendDueBurns(before, signer, rules, at.atMs);
        return sideOnly(appended.blocks.length, appended.blocks.length === 0 ? [] : chainWrites(before, appended.blocks, appended.head));
      });
      return done.result;
    },
  };
  return book;
}

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message);
}

/**
 * A receipt whose credit would take this chain past a uint64 is refused as a verdict on that
 * receipt (INVALID_RECEIPT, for good), as the void of it is countersigned (void-book.ts): its payer
 * then voids it, instead of trying it for ever against a chain-level error.
 */
function overflowAsVerdict<T>(append: () => T): T {
  try {
    return append();
  } catch (err) {
    if (err instanceof ChainRefusal && err.reason === 'overflow') throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, err.message, false, { cause: err });
    throw err;
  }
}
