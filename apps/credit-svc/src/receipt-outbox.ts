/**
 * Delivers the receipts this node owes other nodes (the chain book's outbox, written in the same
 * batch as the settle that paid them) through the gateways, and appends each one that comes back
 * countersigned as RECEIPT_OUT. A pass groups its due receipts by payee: one call per payee carries
 * all of them (up to RECEIPTS_PER_DELIVERY), since peer calls are rate limited per peer, and each
 * receipt has its own outcome. A pass does not wait for its calls: a slow payee holds up only its
 * own receipts (at most CALLS_PER_PAYEE calls to it at once, MAX_CALLS_IN_FLIGHT to all payees
 * together), while the next passes deliver everyone else's. A payee that is down, unknown or slow
 * is tried again with a
 * doubling backoff, for as long as it takes: the receipt stays in the outbox (on disk) until its
 * payee has countersigned it, so a restart of either side loses nothing, and the payee's inbox
 * applies a receipt id once, so a retry after a lost reply changes nothing there.
 * A receipt the payee refuses for good (a non-retryable refusal of that receipt, not a failed call)
 * is voided instead (docs/chain.md "Voids"): the book signs a void of it, and from then on the
 * outbox sends the void, until the payee countersigns it (the pledge is released) or answers with
 * the receipt countersigned, because it had countersigned it or would now (it is appended: paid).
 * A payee that refuses receipts because it could not read this node's chain (this node behind NAT:
 * UNAVAILABLE) is offered the chain's blocks it lacks through the
 * gateways (offerChain, docs/chain.md "Payers behind NAT"); once it took some, those receipts are
 * sent again at once.
 * Each pass also appends the idle burns that fell due (docs/chain.md).
 */
import type { LedgerEntry, SignedReceipt, SignedVoid } from '@swarm/contracts';
import { CHAIN_OFFER_MAX_BLOCKS, ErrorCode, isSwarmError, RECEIPTS_PER_DELIVERY, SwarmError } from '@swarm/contracts';
import type { ChainBook, PendingReceipt } from '@swarm/credit';
import type { CancelTimer, Scheduler, Stopwatch } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';

/** Receipts one pass delivers at once; more wait for the next pass. At most one call's worth even when they all go to one payee. */
export const OUTBOX_PAGE = RECEIPTS_PER_DELIVERY;
/**
 * Receipts one pass looks at, at most, to find OUTBOX_PAGE that are due: receipts waiting out a
 * backoff (a payee that is down) are passed over, never in the way of those behind them, and the
 * next pass goes on where this one stopped, so every receipt is looked at in turn.
 */
export const MAX_OUTBOX_SCAN = 4_096;
/** Calls to one payee at once: the next batch is on its way while the payee countersigns the last. */
export const CALLS_PER_PAYEE = 2;
/** Calls in flight at once, to all payees together (each bounded by the delivery's timeout). */
export const MAX_CALLS_IN_FLIGHT = 16;
export const FIRST_RETRY_MS = 500;
export const MAX_RETRY_MS = 60_000;
/**
 * A receipt failing this long (its payee down for a day, or gone for good) backs off on, doubling
 * up to MAX_LONG_RETRY_MS: a node gone for good costs its payers one call (and one log line) an
 * hour per receipt, not one a minute for ever. Its amount stays pledged: the payer owes it (docs/chain.md).
 */
export const LONG_FAILING_MS = 24 * 3_600_000;
export const MAX_LONG_RETRY_MS = 3_600_000;
/**
 * A payee's OVERLOADED hint (busy, or holding the receipt until it has compared the payer's
 * sightings) is followed as given for this long; a receipt held longer waits the hint or its
 * doubling wait, whichever is longer: a payee that holds a receipt for ever (a payer it never
 * clears) costs one call a minute, not one a second.
 */
export const HELD_PATIENCE_MS = 60_000;
/**
 * This many other failures in a row (a payee down, restarting) end a hold going on: the next hold
 * is followed as its hint says, and the wait doubles anew after it. Fewer (a call lost now and
 * then) change nothing.
 */
export const HELD_ENDS_AFTER_FAILURES = 3;
/**
 * Pages (of CHAIN_OFFER_MAX_BLOCKS) one offer of this node's chain sends a payee at most: 2,048
 * blocks. A longer chain goes on at the next offer, which the receipts sent again at once bring.
 */
export const MAX_OFFER_PAGES = 64;
/** How long one offer round goes on at most (a payee answering each page slowly holds a call slot no longer). */
export const OFFER_ROUND_MS = 30_000;

/** An OVERLOADED answer's hint of when to try again (a SwarmError, or one item's error as it came over the wire), ms; undefined for anything else. */
function retryHintMs(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, retryAfterMs } = err as { code?: unknown; retryAfterMs?: unknown };
  return code === ErrorCode.ERROR_CODE_OVERLOADED && typeof retryAfterMs === 'number' && retryAfterMs > 0 ? retryAfterMs : undefined;
}

/**
 * A payee's refusal of one receipt with these codes, not retryable, may be for good: the payer asks
 * it to void the receipt. A failed call, an unavailable ledger or an internal error are retried as
 * they are. Asking costs an honest payee nothing: one that would take the receipt (its ticket holds
 * and it passes) answers the void with it, countersigned; a refusal of its own bus (a permission or
 * size mistake on the payee) refuses the void the same way, and the void is asked again.
 */
const REFUSED_FOR_GOOD: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
  ErrorCode.ERROR_CODE_PERMISSION_DENIED,
  ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
  ErrorCode.ERROR_CODE_MALFORMED_MESSAGE,
]);

function refusedForGood(err: unknown): boolean {
  return err instanceof SwarmError && !err.retryable && REFUSED_FOR_GOOD.has(err.code);
}

/**
 * A payee's answer for one receipt (the call reached it) that may mean it could not read this
 * node's chain for the receipt's pledge: it could not reach this node's gateway (UNAVAILABLE).
 * Offering the blocks it lacks costs one short call. OVERLOADED (it reads on, in turn) is waited
 * out: an offer would wait its turn too.
 */
function chainMayBeUnread(err: unknown): boolean {
  return err instanceof SwarmError && err.retryable && err.code === ErrorCode.ERROR_CODE_UNAVAILABLE;
}

/** A payee's receipts go in one call, its voids in another (another rpc). */
function callKey(p: PendingReceipt): string {
  return `${p.voiding ? 'void' : 'receipt'} ${p.payee}`;
}

export interface ReceiptOutboxDeps {
  readonly book: Pick<ChainBook, 'pending' | 'completeReceipt' | 'appendDueBurns' | 'startVoid' | 'cancelVoid' | 'completeVoid'>;
  /**
   * Sends receipts (1 to RECEIPTS_PER_DELIVERY) to their one payee (GatewayDeliverReceipts) and
   * resolves with each one's outcome, in the order sent; rejects when the call as a whole failed.
   */
  readonly deliver: (payee: string, signed: readonly SignedReceipt[]) => Promise<readonly DeliveryOutcome[]>;
  /** As `deliver`, for voids (GatewayVoidReceipts). */
  readonly deliverVoids: (payee: string, voids: readonly SignedVoid[]) => Promise<readonly VoidDeliveryOutcome[]>;
  /** Offers of this node's chain to payees that could not read it; absent: none. */
  readonly chainOffers?: {
    /** Sends blocks from `fromSeq` (none: asking where to start) to `payee` (GatewayOfferChain) within `timeoutMs`; resolves with the seq it wants next. */
    readonly send: (payee: string, fromSeq: bigint, blocks: readonly Uint8Array[], timeoutMs: number) => Promise<bigint>;
    /** A page of this node's chain (ChainBook.blocks). */
    readonly blocks: (fromSeq: bigint, limit: number) => Promise<{ readonly blocks: readonly Uint8Array[] }>;
  };
  /** Announces the ledger entries a completed void committed (its VOID entry). */
  readonly announce: (entries: readonly LedgerEntry[]) => void;
  readonly stopwatch: Stopwatch;
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  /** Pause between passes when nothing asked for one sooner. */
  readonly intervalMs: number;
  readonly log: Logger;
}

/** One receipt's delivery: countersigned by its payee, or its error (retried after a backoff). */
export type DeliveryOutcome = { readonly countersigned: SignedReceipt; readonly error?: undefined } | { readonly countersigned?: undefined; readonly error: unknown };
/** One void's delivery: countersigned by the payee, or the receipt it countersigned (before, or now), or its error. */
export type VoidDeliveryOutcome =
  | { readonly voided: SignedVoid; readonly countersigned?: undefined; readonly error?: undefined }
  | { readonly voided?: undefined; readonly countersigned: SignedReceipt; readonly error?: undefined }
  | { readonly voided?: undefined; readonly countersigned?: undefined; readonly error: unknown };

export interface ReceiptOutbox {
  /** A settle just wrote receipts: run a pass now (or right after the running one). */
  kick(): void;
  /** Resolves once the running pass and the calls in flight have ended; none starts after. */
  stop(): Promise<void>;
  /** Receipts whose delivery has failed and is being retried, and how long the oldest has waited (ms). */
  failing(): { readonly count: number; readonly oldestMs: number };
}

interface Backoff {
  readonly until: number;
  readonly delayMs: number;
  /** When its first delivery failed (stopwatch ms). */
  readonly since: number;
  /** When its payee first held it (answered OVERLOADED with when to retry); kept through other failures, forgotten once it is delivered. */
  readonly heldSince?: number;
  /** Failures other than a hold since its payee last held it. */
  readonly othersInRow?: number;
  /** Held past HELD_PATIENCE_MS: its doubling wait while held. */
  readonly heldDelayMs?: number;
  /** An offer of the chain let it go again at once, once: never again for this receipt (a payee asking for blocks it was given gets no loop). */
  readonly lifted?: boolean;
}

export function startReceiptOutbox(deps: ReceiptOutboxDeps): ReceiptOutbox {
  const { book, stopwatch, scheduler, log } = deps;
  // One entry per outbox receipt whose delivery failed, removed once it is delivered (receipts leave
  // the outbox no other way): as many as the outbox holds stuck, and each keeps its doubling wait.
  const backoff = new Map<string, Backoff>();
  /** The last receipt id looked at; undefined: from the outbox's beginning. */
  let cursor: string | undefined;
  let timer: CancelTimer | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  /** Receipts in a call now: no pass picks them again until it has ended. */
  const inFlight = new Set<string>();
  /** Calls in flight per payee. */
  const callsTo = new Map<string, number>();
  /**
   * Receipts completed since the running pass began: its read of the outbox may predate their
   * removal (a LevelDB iterator answers from a snapshot), and must not send them again.
   */
  const completedDuringPass = new Set<string>();
  const calls = new Set<Promise<void>>();
  /** Payees being offered this node's chain now: one offer at a time each. */
  const offering = new Set<string>();

  /** Starts one call for `payee`'s receipts; once it ends, a pass looks for what became due. */
  function startCall(payee: string, receipts: readonly PendingReceipt[]): void {
    for (const p of receipts) inFlight.add(p.receiptId);
    callsTo.set(payee, (callsTo.get(payee) ?? 0) + 1);
    const call = deliverTo(payee, receipts).finally(() => {
      for (const p of receipts) inFlight.delete(p.receiptId);
      const left = (callsTo.get(payee) ?? 1) - 1;
      if (left > 0) callsTo.set(payee, left);
      else callsTo.delete(payee);
      calls.delete(call);
      run();
    });
    calls.add(call);
  }

  /** Delivers one payee's receipts, or voids, in one call and applies each outcome. */
  async function deliverTo(payee: string, receipts: readonly PendingReceipt[]): Promise<void> {
    let outcomes: readonly (DeliveryOutcome | VoidDeliveryOutcome)[];
    try {
      const voids = receipts.flatMap((p) => (p.voiding ? [p.voiding] : []));
      outcomes =
        voids.length > 0
          ? await deps.deliverVoids(payee, voids)
          : await deps.deliver(
              payee,
              receipts.map((p) => p.signed),
            );
      if (outcomes.length !== receipts.length) throw new Error(`the gateway answered ${outcomes.length} outcomes for ${receipts.length} receipts`);
    } catch (err) {
      // A payee from before voids does not know the call: its receipts go as receipts again, as
      // before voids (retried, and voided again only once it knows how).
      if (receipts[0].voiding && isSwarmError(err, ErrorCode.ERROR_CODE_UNIMPLEMENTED)) await cancelVoids(payee, receipts);
      // The call as a whole failed (payee down, unknown, slow): every receipt in it waits, one line for all.
      const delays = receipts.map((p) => backOff(p.receiptId, err));
      log.warn({ err, payee: payee.slice(0, 12), receipts: receipts.length, retryInMs: Math.min(...delays) }, 'receipts not delivered yet; will retry');
      return;
    }
    // Side by side, so that the ledger appends them in one synced batch (group commit), not one each.
    await Promise.all(receipts.map((p, i) => applyOutcome(p, outcomes[i])));
    const unread = receipts.filter((_, i) => chainMayBeUnread(outcomes[i].error));
    if (unread.length === 0) return;
    const roundStart = stopwatch.now();
    const took = await offerChain(payee);
    const roundMs = stopwatch.now() - roundStart;
    for (const p of unread) {
      const waiting = backoff.get(p.receiptId);
      if (!waiting) continue;
      // The payee took blocks it lacked: what it refused goes again at once (the pass this call's end
      // runs), its wait kept (a later failure doubles it), once. Else its wait starts after the round:
      // a payee answering offers slowly holds this call, and gains no quicker retry by it.
      if (took && !waiting.lifted) backoff.set(p.receiptId, { ...waiting, until: 0, lifted: true });
      else backoff.set(p.receiptId, { ...waiting, until: waiting.until + roundMs });
    }
  }

  /**
   * Offers `payee` the blocks of this node's chain it has not read, up to MAX_OFFER_PAGES pages:
   * true when it took some. Never throws: a payee that takes none (it reads the chain itself, or
   * predates offers) changes nothing, and its receipts back off as they would.
   */
  async function offerChain(payee: string): Promise<boolean> {
    const offers = deps.chainOffers;
    if (offers === undefined || offering.has(payee)) return false;
    offering.add(payee);
    let took = false;
    const endsAt = stopwatch.now() + OFFER_ROUND_MS;
    try {
      // Each call within what is left of the round: it never outlasts OFFER_ROUND_MS.
      const left = () => Math.max(1, endsAt - stopwatch.now());
      let wanted = await offers.send(payee, 0n, [], left());
      for (let pages = 0; pages < MAX_OFFER_PAGES && wanted >= 1n && !stopped && stopwatch.now() < endsAt; pages += 1) {
        const page = await offers.blocks(wanted, CHAIN_OFFER_MAX_BLOCKS);
        if (page.blocks.length === 0) break;
        const next = await offers.send(payee, wanted, page.blocks, left());
        // Taken only when it wants what follows the whole page: a payee taking part of it (its
        // budget) stops the round; one that asks for blocks it was given again gets no more.
        if (next < wanted + BigInt(page.blocks.length)) break;
        took = true;
        wanted = next;
      }
      if (took) log.info({ payee: payee.slice(0, 12), wantedFromSeq: wanted.toString() }, "offered this node's chain to a payee that could not read it");
    } catch (err) {
      log.warn({ err, payee: payee.slice(0, 12) }, "could not offer this node's chain to a payee that could not read it");
    } finally {
      offering.delete(payee);
    }
    return took;
  }

  async function cancelVoids(payee: string, receipts: readonly PendingReceipt[]): Promise<void> {
    try {
      // Side by side, so that the ledger writes them in one synced batch (group commit), not one each.
      await Promise.all(receipts.map((p) => book.cancelVoid(p.receiptId)));
      log.warn({ payee: payee.slice(0, 12), receipts: receipts.length }, 'payee predates voids; its receipts are sent again instead');
    } catch (err) {
      log.error({ err, payee: payee.slice(0, 12) }, 'could not stop asking voids of a payee that predates them');
    }
  }

  async function applyOutcome(p: PendingReceipt, outcome: DeliveryOutcome | VoidDeliveryOutcome): Promise<void> {
    const { receiptId, payee } = p;
    let err = outcome.error;
    if ('voided' in outcome && outcome.voided !== undefined) {
      try {
        const done = await book.completeVoid(outcome.voided);
        deps.announce(done.entries);
        backoff.delete(receiptId);
        if (running) completedDuringPass.add(receiptId);
        log.info({ receiptId: receiptId.slice(0, 80), payee: payee.slice(0, 12), returned: done.result.toString() }, 'receipt voided by its payee; its pledge is released');
        return;
      } catch (completeErr) {
        err = completeErr;
      }
    } else if (!p.voiding && refusedForGood(err)) {
      try {
        // Sent as a void by the pass this call's end runs (false: it left the outbox meanwhile).
        if (await book.startVoid(receiptId))
          log.warn({ err, receiptId: receiptId.slice(0, 80), payee: payee.slice(0, 12) }, 'receipt refused by its payee for good; asking it to void it');
        backoff.delete(receiptId);
        return;
      } catch (startErr) {
        err = startErr;
      }
    }
    if (outcome.countersigned !== undefined) {
      try {
        await book.completeReceipt(outcome.countersigned);
        backoff.delete(receiptId);
        if (running) completedDuringPass.add(receiptId);
        log.info({ receiptId: receiptId.slice(0, 80), payee: payee.slice(0, 12) }, 'receipt countersigned by its payee and appended to the chain');
        return;
      } catch (completeErr) {
        err = completeErr;
      }
    }
    const retryInMs = backOff(receiptId, err);
    // Every failure: once the delay reaches its cap, that is one line a minute per receipt (an hour after LONG_FAILING_MS).
    log.warn({ err, receiptId: receiptId.slice(0, 80), payee: payee.slice(0, 12), retryInMs }, 'receipt not delivered yet; will retry');
  }

  /**
   * Doubles the receipt's wait before its next try (from FIRST_RETRY_MS to MAX_RETRY_MS, or
   * MAX_LONG_RETRY_MS once failing LONG_FAILING_MS); answers it. A payee that answered
   * OVERLOADED with when to retry (its budget for such items, its call limits, a hold) is tried
   * again then, at least FIRST_RETRY_MS later, and the doubling does not grow: it is busy, not
   * failing. A receipt held for HELD_PATIENCE_MS (since its payee first held it: helper-160, counted
   * from its first failure of any kind, a payee back from a restart that held once made it wait a
   * minute) waits the longer of the hint and a wait of its own, doubling from FIRST_RETRY_MS to
   * MAX_RETRY_MS; another failure now and then does not start that over (helper-162), but
   * HELD_ENDS_AFTER_FAILURES in a row (its payee down, restarting) end the hold: the next hold's
   * hint is followed, and the wait doubles anew after it (helper-163, helper-164).
   */
  function backOff(receiptId: string, err?: unknown): number {
    const last = backoff.get(receiptId);
    const now = stopwatch.now();
    const since = last?.since ?? now;
    const cap = now - since >= LONG_FAILING_MS ? MAX_LONG_RETRY_MS : MAX_RETRY_MS;
    const lifted = last?.lifted ? { lifted: true } : {};
    const hint = retryHintMs(err);
    const held: Pick<Backoff, 'heldSince' | 'heldDelayMs'> = {
      ...(last?.heldSince !== undefined ? { heldSince: last.heldSince } : {}),
      ...(last?.heldDelayMs !== undefined ? { heldDelayMs: last.heldDelayMs } : {}),
    };
    if (hint === undefined) {
      const delayMs = last ? Math.min(last.delayMs * 2, cap) : FIRST_RETRY_MS;
      backoff.set(receiptId, { until: now + delayMs, delayMs, since, ...held, othersInRow: (last?.othersInRow ?? 0) + 1, ...lifted });
      return delayMs;
    }
    // A payee back from a restart (down for several tries) that held before holds again: its first
    // hold is followed as its hint says (helper-163), and the wait doubles from FIRST_RETRY_MS after,
    // its patience spent (helper-164: a payee holding for good that failed three times after each
    // minute of holds had a call a second again).
    const ended = held.heldSince !== undefined && (last?.othersInRow ?? 0) >= HELD_ENDS_AFTER_FAILURES;
    const heldSince = ended ? now - HELD_PATIENCE_MS : (held.heldSince ?? now);
    // A minute at most: a payee that holds is there and answering, not gone (helper-162: capped as a day's failures were, an hour).
    const heldDelayMs = ended ? FIRST_RETRY_MS / 2 : now - heldSince < HELD_PATIENCE_MS ? undefined : Math.min(2 * (held.heldDelayMs ?? FIRST_RETRY_MS / 2), MAX_RETRY_MS);
    const waitMs = Math.min(Math.max(hint, heldDelayMs ?? FIRST_RETRY_MS), cap);
    backoff.set(receiptId, {
      until: now + waitMs,
      delayMs: last?.delayMs ?? FIRST_RETRY_MS,
      since,
      heldSince,
      ...(heldDelayMs !== undefined ? { heldDelayMs } : {}),
      ...lifted,
    });
    return waitMs;
  }

  async function pass(): Promise<void> {
    completedDuringPass.clear();
    try {
      const burned = await book.appendDueBurns();
      if (burned > 0) log.info({ blocks: burned }, 'idle burns appended to the chain');
    } catch (err) {
      log.error({ err }, 'could not append the idle burns due');
    }
    let due: PendingReceipt[];
    try {
      due = await dueReceipts();
    } catch (err) {
      log.error({ err }, 'could not read the receipt outbox');
      return;
    }
    // One call per payee for its receipts, and one for its voids (another rpc).
    const byCall = new Map<string, PendingReceipt[]>();
    for (const p of due) {
      const key = callKey(p);
      const receipts = byCall.get(key);
      if (receipts) receipts.push(p);
      else byCall.set(key, [p]);
    }
    // stop() came while this pass read the outbox: no call starts after it.
    if (stopped) return;
    for (const receipts of byCall.values()) startCall(receipts[0].payee, receipts);
    // A full page: more may be due behind it, for payees with a call to spare; the next pass at once.
    if (due.length === OUTBOX_PAGE) again = true;
  }

  /**
   * Up to OUTBOX_PAGE receipts from where the last pass stopped that are not waiting out a backoff
   * nor in a call, for payees with a call to spare, at most as many calls as may start (a payee's
   * receipts and its voids are two calls).
   */
  async function dueReceipts(): Promise<PendingReceipt[]> {
    const now = stopwatch.now();
    const due: PendingReceipt[] = [];
    const room = MAX_CALLS_IN_FLIGHT - calls.size;
    const starting = new Set<string>();
    const startingTo = new Map<string, number>();
    const takes = (p: PendingReceipt) => {
      if (inFlight.has(p.receiptId) || completedDuringPass.has(p.receiptId) || (backoff.get(p.receiptId)?.until ?? 0) > now) return false;
      const call = callKey(p);
      if (starting.has(call)) return true;
      const toPayee = startingTo.get(p.payee) ?? 0;
      if (starting.size >= room || (callsTo.get(p.payee) ?? 0) + toPayee >= CALLS_PER_PAYEE) return false;
      starting.add(call);
      startingTo.set(p.payee, toPayee + 1);
      return true;
    };
    if (room <= 0) return due;
    let scanned = 0;
    let wrapped = cursor === undefined;
    while (due.length < OUTBOX_PAGE && scanned < MAX_OUTBOX_SCAN) {
      const page = await book.pending(OUTBOX_PAGE, cursor);
      scanned += page.length;
      for (const p of page) {
        if (due.length === OUTBOX_PAGE) break;
        // After a wrap the scan may meet this pass's first receipts again.
        if (!due.some((d) => d.receiptId === p.receiptId) && takes(p)) due.push(p);
        cursor = p.receiptId;
      }
      if (page.length < OUTBOX_PAGE) {
        // The end of the outbox: on from its beginning, at most once per pass.
        cursor = undefined;
        if (wrapped) break;
        wrapped = true;
      }
    }
    return due;
  }

  function schedule(delayMs: number): void {
    timer = scheduler.setTimer(delayMs, () => {
      timer = undefined;
      run();
    });
  }

  function run(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    timer?.();
    timer = undefined;
    running = pass().finally(() => {
      running = undefined;
      if (stopped) return;
      const soon = again;
      again = false;
      if (soon) run();
      else schedule(deps.intervalMs);
    });
  }

  schedule(0);
  return {
    kick: run,
    failing() {
      const now = stopwatch.now();
      let oldestMs = 0;
      for (const b of backoff.values()) oldestMs = Math.max(oldestMs, now - b.since);
      return { count: backoff.size, oldestMs };
    },
    async stop() {
      stopped = true;
      timer?.();
      timer = undefined;
      await running;
      await Promise.all(calls);
    },
  };
}
