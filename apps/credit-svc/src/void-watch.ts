/**
 * The watch over the payees that countersigned this node's voids (docs/chain.md "Voids"). A payee
 * that countersigned the void of a receipt and keeps that receipt in its chain anyway has added
 * credit to the swarm; `swarm ledger --peer` finds it when an operator asks. This finds it without
 * one: every `intervalMs` it reads on, through the gateway, the chain of each payee holding such a
 * void, from where the last pass got to (scanForVoidBreaches, libs/chain), and each voided receipt
 * it finds there is paid after all (the ledger's reinstatement, as `credit.reinstate-voided` does)
 * and proven to the node's router, which stops trusting the payee. So a breach keeps the sum over
 * the chains off for at most about one interval after the payee appends its block, and the time to
 * read it (with more than PAYEES_PER_PASS payees, each is read every ceil(payees / PAYEES_PER_PASS)
 * passes). How far each chain was read is kept in memory, with the voids it was read for: a void
 * countersigned later (its receipt's block may lie behind the cursor) gets a catch-up read of the
 * blocks behind, beside the read on, which never goes back. A restart (or a chain read again) reads
 * a chain longer than one pass's blocks on from its head at once, and the blocks before by such a
 * catch-up, so a breach appended after the restart is found within an interval however long the
 * chain (each block's signature and link checked, nothing more: auditing is the CLI's job). A
 * breach that could not be paid (no room in the chain, say) is tried again at every pass.
 */
import type { FetchChainPage, ChainCursor, VoidBreach, VoidBreachScan } from '@swarm/chain';
import { CHAIN_START, chainHeadCursor, sameBytes, scanForVoidBreaches } from '@swarm/chain';
import type { SignedVoid, VoidBreachProof } from '@swarm/contracts';
import { Receipt } from '@swarm/contracts';
import type { CancelTimer, Scheduler, Stopwatch } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';

/** Payees whose chains one pass reads on; the next pass goes on with the ones after them. */
export const PAYEES_PER_PASS = 16;
/** Blocks one read of one payee's chain takes a pass (the read on, and a catch-up as many); a longer chain is read on at the next pass. */
export const BLOCKS_PER_PAYEE_PASS = 10_000;
/**
 * Blocks asked a page: each costs a signature check on credit-svc's event loop (about 60 µs), so a
 * page holds it for about 15 ms, not the 60 ms of a full one (CHAIN_PAGE_MAX_BLOCKS).
 */
export const WATCH_PAGE_BLOCKS = 256;
/** Pages of voids one pass reads (PAID_VOIDS_PAGE each: about a million voids); past them, a warning. */
export const MAX_VOID_PAGES = 4_000;
/** Each read of a payee's chain (the read on, a catch-up) goes on at most this long a pass (between pages): a slow payee holds up the others only so long. */
export const PAYEE_READ_BUDGET_MS = 60_000;

export interface VoidWatchDeps {
  /** This node's id: the payer of every void watched. */
  nodeId: string;
  /** Pages of the voids this node's payees countersigned (ChainBook.paidVoids). */
  paidVoids(afterId: string, limit: number): Promise<{ voids: SignedVoid[]; nextAfterId: string }>;
  /** Pages of a peer's chain (through the gateway); `signal` aborts at stop(). */
  fetchChain(peer: string, signal: AbortSignal): FetchChainPage;
  /** Pays a breached receipt after all: true when this call paid it, false when it was paid before. */
  reinstate(proof: VoidBreachProof): Promise<boolean>;
  /** Proves the breach to the node's router, which stops trusting the payee. */
  report(proof: VoidBreachProof, signal: AbortSignal): Promise<void>;
  scheduler: Pick<Scheduler, 'setTimer'>;
  /** Times each payee's read against PAYEE_READ_BUDGET_MS. */
  stopwatch: Stopwatch;
  /** Reads one payee's chain on (default scanForVoidBreaches; tests pass their own). */
  scan?: typeof scanForVoidBreaches;
  /** Where a fresh read of a long chain starts (default chainHeadCursor past BLOCKS_PER_PAYEE_PASS; tests pass their own). */
  headOf?: (payee: string, signal: AbortSignal) => Promise<ChainCursor | undefined>;
  /** Pause between the end of one pass and the start of the next; 0: no passes but those asked (pass()). */
  intervalMs: number;
  log: Logger;
}

export interface VoidWatchPass {
  /** Payees whose chains were read on. */
  readonly payees: number;
  readonly blocksRead: number;
  /** Voided receipts found in payees' chains this pass, not found before since start. */
  readonly breaches: number;
  /** Of them, paid after all by this pass. */
  readonly paid: number;
  /** Payees not reached, and breaches that could not be paid or reported: tried again next pass. */
  readonly failed: number;
}

export interface VoidWatch {
  /** One pass now (as the timer runs them); never two at once. */
  pass(): Promise<VoidWatchPass>;
  /**
   * Since start: passes, voided receipts found in payees' chains (each once), receipts paid after
   * all by the watch, and reads of a chain that did not go on from where it was read before
   * (another node's blocks, a block that does not link: its chain wants an audit, `swarm ledger --peer`).
   */
  stats(): { readonly passes: number; readonly breachesFound: number; readonly receiptsPaid: number; readonly brokenChains: number };
  /** No pass starts after it; the running one is cut short (its requests aborted). */
  stop(): Promise<void>;
}

const SHOWN_ID = 12;
const SHOWN_RECEIPT = 80;

export function startVoidWatch(deps: VoidWatchDeps): VoidWatch {
  const { log, scan: scanChain = scanForVoidBreaches } = deps;
  const headOf = deps.headOf ?? ((payee: string, signal: AbortSignal) => chainHeadCursor(deps.fetchChain(payee, signal), payee, BigInt(BLOCKS_PER_PAYEE_PASS)));
  /** Per payee: how far its chain was read, and for which voids. */
  const progress = new Map<string, PayeeProgress>();
  /** Receipt ids of the breaches found since start (bounded by the voids kept). */
  const found = new Set<string>();
  /** Breaches found and not yet paid (or paid and not yet reported), by receipt id. */
  const unsettled = new Map<string, Unsettled>();
  const stopping = new AbortController();
  let lastPayee = '';
  let running: Promise<VoidWatchPass> | undefined;
  let cancelTimer: CancelTimer | undefined;
  const totals = { passes: 0, receiptsPaid: 0, brokenChains: 0 };
  const quiet = () => stopping.signal.aborted;

  /** Every kept void by payee, with the receipt id it voids. */
  async function voidsByPayee(): Promise<Map<string, KeptVoid[]>> {
    const byPayee = new Map<string, KeptVoid[]>();
    for (let after = '', pages = 0; !stopping.signal.aborted; pages += 1) {
      if (pages === MAX_VOID_PAGES) {
        log.warn({ pages }, 'more voids than the watch reads a pass: the voids after them are not watched');
        break;
      }
      const page = await deps.paidVoids(after, 0);
      for (const v of page.voids) {
        const receipt = decodedReceipt(v);
        if (receipt === undefined) continue;
        const kept = { signedVoid: v, receiptId: receipt.receiptId };
        const list = byPayee.get(receipt.payee);
        if (list) list.push(kept);
        else byPayee.set(receipt.payee, [kept]);
      }
      if (page.nextAfterId === '' || page.nextAfterId <= after) break;
      after = page.nextAfterId;
    }
    return byPayee;
  }

  /**
   * Pays and proves one breach, each on its own: a payment the ledger cannot make yet does not hold
   * up the proof (the payee is untrusted either way). False when either failed: it is tried again
   * next pass.
   */
  async function settle(id: string, entry: Unsettled): Promise<boolean> {
    const { breach } = entry;
    const payee = entry.payee.slice(0, SHOWN_ID);
    const receiptId = id.slice(0, SHOWN_RECEIPT);
    if (!entry.paid) {
      try {
        const paidNow = await deps.reinstate(breach.proof);
        entry.paid = true;
        if (paidNow) {
          totals.receiptsPaid += 1;
          log.warn({ payee, receiptId, amount: breach.amount.toString() }, 'a payee kept a receipt it had voided: paid after all');
        }
      } catch (err) {
        if (!quiet()) log.warn({ err, payee, receiptId }, 'a voided receipt kept by its payee could not be paid after all; trying again next pass');
      }
    }
    if (!entry.reported) {
      try {
        await deps.report(breach.proof, stopping.signal);
        entry.reported = true;
      } catch (err) {
        if (!quiet()) log.warn({ err, payee, receiptId }, "a payee's broken void could not be proven to the router; trying again next pass");
      }
    }
    if (!entry.paid || !entry.reported) return false;
    unsettled.delete(id);
    return true;
  }

  async function runPass(): Promise<VoidWatchPass> {
    let payeesRead = 0;
    let blocksRead = 0;
    let breaches = 0;
    let failed = 0;
    const paidBefore = totals.receiptsPaid;
    for (const [id, entry] of unsettled) if (!stopping.signal.aborted && !(await settle(id, entry))) failed += 1;
    const byPayee = await voidsByPayee();
    for (const payee of progress.keys()) if (!byPayee.has(payee)) progress.delete(payee);
    // Round robin: on from the payee after the last one read, so every payee is read in turn.
    const payees = [...byPayee.keys()].sort();
    const next = payees.findIndex((p) => p > lastPayee);
    const turn = next <= 0 ? payees : [...payees.slice(next), ...payees.slice(0, next)];
    for (const payee of turn.slice(0, PAYEES_PER_PASS)) {
      if (stopping.signal.aborted) break;
      lastPayee = payee;
      const { scans, failure } = await readPayee(payee, byPayee.get(payee) ?? []);
      if (failure) {
        failed += 1;
        if (!quiet()) log.info({ err: failure.err, payee: payee.slice(0, SHOWN_ID) }, "could not read on a payee's chain for voided receipts; trying again next pass");
        if (scans.length === 0) continue;
      }
      payeesRead += 1;
      for (const scan of scans) {
        blocksRead += scan.blocksRead;
        if (scan.broken !== undefined) {
          totals.brokenChains += 1;
          log.warn(
            { payee: payee.slice(0, SHOWN_ID), why: scan.broken },
            "a payee's chain did not go on from where it was read before; reading it again from its start next pass (`swarm ledger --peer` audits it)",
          );
        }
        const settled = await settleFound(payee, scan.breaches);
        breaches += settled.found;
        failed += settled.failures;
      }
    }
    totals.passes += 1;
    return { payees: payeesRead, blocksRead, breaches, paid: totals.receiptsPaid - paidBefore, failed };
  }

  /** Pays and proves each breach not found before: how many were new, and how many failed (tried again next pass). */
  async function settleFound(payee: string, scanned: readonly VoidBreach[]): Promise<{ found: number; failures: number }> {
    let fresh = 0;
    let failures = 0;
    for (const breach of scanned) {
      // Read again (a catch-up, a restart of the read): paid and proven before, nothing to do.
      if (found.has(breach.receiptId)) continue;
      found.add(breach.receiptId);
      fresh += 1;
      const entry = { breach, payee, paid: false, reported: false };
      unsettled.set(breach.receiptId, entry);
      if (!(await settle(breach.receiptId, entry))) failures += 1;
    }
    return { found: fresh, failures };
  }

  /**
   * One pass over one payee's chain: the read on, with every void, then the catch-up, if one is due.
   * The scans that ended, and why the next one could not (the catch-up's failure keeps the read on's).
   */
  async function readPayee(payee: string, kept: readonly KeptVoid[]): Promise<{ scans: VoidBreachScan[]; failure?: { readonly err: unknown } }> {
    const voids = kept.map((k) => k.signedVoid);
    const ids = new Set(kept.map((k) => k.receiptId));
    const state = progress.get(payee) ?? freshProgress();
    progress.set(payee, state);
    // Each read has its own time budget: a slow read on never starves the catch-up.
    const read = (from: ChainCursor, forVoids: readonly SignedVoid[], maxBlocks: number, started = deps.stopwatch.now()) =>
      scanChain(deps.fetchChain(payee, stopping.signal), {
        payer: deps.nodeId,
        payee,
        voids: forVoids,
        from,
        maxBlocks,
        pageLimit: WATCH_PAGE_BLOCKS,
        stop: () => stopping.signal.aborted || deps.stopwatch.now() - started > PAYEE_READ_BUDGET_MS,
      });
    const scans: VoidBreachScan[] = [];
    try {
      // A fresh read of a chain longer than a pass reads: on from its head now, the rest by a catch-up.
      if (state.cursor.seq === 0n && state.catchUp === undefined) state.cursor = (await headOf(payee, stopping.signal)) ?? CHAIN_START;
      // The read on, with every void: a void new since it passed some blocks waits for a catch-up over them.
      const fromStart = state.cursor.seq === 0n;
      for (const id of ids) if (!fromStart && !state.covered.has(id) && !state.catchUp?.ids.has(id)) state.waiting.add(id);
      const on = await read(state.cursor, voids, BLOCKS_PER_PAYEE_PASS);
      scans.push(on);
      // A chain that is not the one read before is read again from its start, every void with it.
      if (on.broken !== undefined) Object.assign(state, freshProgress());
      else if (fromStart) Object.assign(state, freshProgress(), { cursor: on.cursor, covered: new Set(ids) });
      else state.cursor = on.cursor;
      // The catch-up: from the start up to where the read on has got to now, for the voids that
      // waited; voids new meanwhile wait for the next one, so the read on never goes back.
      if (!state.catchUp && state.waiting.size > 0 && state.cursor.seq > 0n) {
        state.catchUp = { cursor: CHAIN_START, upTo: state.cursor.seq, upToHash: state.cursor.hash, ids: state.waiting };
        state.waiting = new Set<string>();
      }
      const catchUp = state.catchUp;
      if (catchUp) {
        const behind = catchUp.upTo - catchUp.cursor.seq;
        const forVoids = kept.filter((k) => catchUp.ids.has(k.receiptId)).map((k) => k.signedVoid);
        const scanned = await read(catchUp.cursor, forVoids, Math.min(BLOCKS_PER_PAYEE_PASS, Number(behind)));
        // The catch-up must come to the block the read on went on from (a head the payee named, say).
        const back = scanned.broken !== undefined || stopping.signal.aborted ? scanned : { ...scanned, broken: catchUpMismatch(scanned, catchUp) };
        scans.push(back);
        if (back.broken !== undefined) Object.assign(state, freshProgress());
        else catchUp.cursor = back.cursor;
        if (state.catchUp && catchUp.cursor.seq >= catchUp.upTo) {
          for (const id of catchUp.ids) state.covered.add(id);
          state.catchUp = undefined;
        }
      }
      return { scans };
    } catch (err) {
      return { scans, failure: { err } };
    }
  }

  function pass(): Promise<VoidWatchPass> {
    running ??= runPass().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(): void {
    if (deps.intervalMs <= 0 || stopping.signal.aborted) return;
    cancelTimer = deps.scheduler.setTimer(deps.intervalMs, () => {
      cancelTimer = undefined;
      pass()
        .catch((err: unknown) => log.error({ err }, 'the watch over voided receipts failed a pass; trying again after the interval'))
        .finally(schedule);
    });
  }

  schedule();
  return {
    pass,
    stats: () => ({ passes: totals.passes, breachesFound: found.size, receiptsPaid: totals.receiptsPaid, brokenChains: totals.brokenChains }),
    async stop() {
      stopping.abort();
      cancelTimer?.();
      cancelTimer = undefined;
      await running?.catch(() => undefined);
    },
  };
}

interface KeptVoid {
  readonly signedVoid: SignedVoid;
  readonly receiptId: string;
}

/** Nothing read yet: the read on starts at the chain's start, with every void. */
function freshProgress(): PayeeProgress {
  return { cursor: CHAIN_START, covered: new Set<string>(), waiting: new Set<string>(), catchUp: undefined };
}

interface PayeeProgress {
  /** The read on: the last block read, with every void kept when it was read. */
  cursor: ChainCursor;
  /** Voids the blocks up to the cursor were read for. */
  covered: Set<string>;
  /** Voids new since the read on began: the blocks it passed before them wait for a catch-up. */
  waiting: Set<string>;
  /** A read from the start up to `upTo` (where the read on was) for voids that came later. */
  catchUp: CatchUp | undefined;
}

/** A read from the start up to `upTo`, where the read on was, for voids that came later. */
interface CatchUp {
  cursor: ChainCursor;
  readonly upTo: bigint;
  /** The block at `upTo` as the read on linked from it: the catch-up must come to that very block. */
  readonly upToHash: Uint8Array;
  readonly ids: Set<string>;
}

/** Why a catch-up read does not join the read on (the chain ends before `upTo`, or is another there); undefined when it does. */
function catchUpMismatch(scan: VoidBreachScan, catchUp: CatchUp): string | undefined {
  if (scan.blocksRead === 0 && scan.cursor.seq < catchUp.upTo) return `the chain ends at block ${scan.cursor.seq}, before block ${catchUp.upTo} the read on went on from`;
  if (scan.cursor.seq === catchUp.upTo && !sameBytes(scan.cursor.hash, catchUp.upToHash)) return `block ${catchUp.upTo} is not the one the read on went on from`;
  return undefined;
}

interface Unsettled {
  readonly breach: VoidBreach;
  readonly payee: string;
  paid: boolean;
  reported: boolean;
}

/** A kept void's receipt; undefined for a record that does not decode (the CLI's audit reports those). */
function decodedReceipt(v: SignedVoid): Receipt | undefined {
  try {
    return Receipt.decode(v.receipt);
  } catch {
    return undefined;
  }
}
