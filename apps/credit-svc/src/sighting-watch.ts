/**
 * Sightings (docs/chain.md "Sightings"): each payee publishes in the DHT the payer's block at the
 * head it audited (its sighting, signed by the node key) and compares the other payees' with what
 * it audited. A payer that shows two payees two branches signed two blocks of one seq, and the two
 * payees see each other's: one of them holds both, a fork proof, and convicts the payer (refused for
 * good, reported to the router, as for a fork its own pages show: payer-views.ts).
 *
 * Compared, for another payee's sighting of block s against this node's head h:
 * - s = h: the two blocks (head to head);
 * - s > h: the payer's chain is read on now (a read in turn, as a receipt asks, within the look's
 *   deadline) and compared below the new head; a block s = h + 1 that does not go on from the head
 *   is a proof at once;
 * - s < h: the block's hash against a keyed 8-byte digest of block s's as audited (kept for every
 *   block audited since the view started, block-hashes.ts): the same needs no read. Else (or
 *   below what the view recorded), the payer's blocks of the checkpoint interval holding s, up to the
 *   first checkpoint (or the head) at or above it, are read through the gateway, at most
 *   CHECKPOINT_BLOCKS of them, and must link up to the hash audited there: the block at s is then
 *   the one this node audited, compared with the sighting's by its signed bytes. A broken link the
 *   payer signed on the way is a proof too.
 * A sighting found the same (its payer and block hash), or of a block read back before, is not
 * compared again.
 *
 * The hold (payer-views.ts): a receipt is countersigned once a clean look (cleared()) started from a
 * head holding its pledge: this node's sighting (sighting-publisher.ts, which keeps it from going
 * down and signs it again) published, stored by more of the DHT nodes it was sent to than refused
 * it and held by most holders heard (heldByMost), the answer whole, every other sighting the same.
 *
 * Looks: after a page of a payer's chain audited (the head moved), at most one a payer every
 * MIN_LOOK_INTERVAL_MS and LOOKS_IN_FLIGHT at once in the background; receipts' own (clear) up to
 * MAX_LOOKS_RUNNING; each payer with a view is looked at once more every REFRESH_MS (the publisher asks).
 */
import type { VerifiedSighting } from '@swarm/chain';
import { ChainRefusal, heldByMost, hex, provenFork, sameBytes, sha256, signedBlockHash, verifyChainSighting } from '@swarm/chain';
import type { ForkProof } from '@swarm/contracts';
import { ChainBlock, ChainSighting, SignedBlock, SignedChainSighting } from '@swarm/contracts';
import type { CancelTimer } from '@swarm/determinism';
import { RecencyMap } from '@swarm/recency-map';
import type { AuditedHead, FetchPayerPage, PayerViews } from './payer-views';
import { CHECKPOINT_BLOCKS, PAYER_PAGE_BLOCKS } from './payer-views';
import type { SightingPublisherDeps } from './sighting-publisher';
import { startSightingPublisher } from './sighting-publisher';

/** The least time between two looks at one payer's sightings. */
export const MIN_LOOK_INTERVAL_MS = 5_000;
/** Looks going on at once, all payers together. */
export const LOOKS_IN_FLIGHT = 4;
/** Payers waiting for a look, and timers set for one (past it, a payer touched is looked at when next touched). */
export const MAX_WAITING_LOOKS = 4_096;
/** Sightings found the same as what this node audited, remembered (by their block's signature). */
export const MAX_CONSISTENT = 65_536;
/** Sightings below the head read back in one look, at most (each up to CHECKPOINT_BLOCKS blocks); the rest at the next. */
export const READ_BACKS_PER_LOOK = 8;
/** Payers cleared remembered (the least recently cleared forgotten past it: looked at again when asked). */
export const MAX_CLEARED = 16_384;
/** Looks going on at once, the background's and receipts' together; past it, a receipt is told to come back. */
export const MAX_LOOKS_RUNNING = 64;
/** The most a look goes on (its read backs stop, the rest of its sightings at the next look). */
export const LOOK_BUDGET_MS = 10_000;
/** Time a page of a read back is given. */
export const BACK_READ_PAGE_TIMEOUT_MS = 2_000;

/** The publisher's (its `find` answers the looks too: the others' sightings, and this node's own as held), and the payers' chains. */
export interface SightingWatchDeps extends Omit<SightingPublisherDeps, 'views' | 'lookAgain'> {
  readonly views: Pick<PayerViews, 'audited' | 'readOn' | 'convictWith' | 'anchorOf' | 'isConvicted'>;
  readonly fetchChain: (payer: string) => FetchPayerPage;
  /** READ_BACKS_PER_LOOK by default. */
  readonly readBacksPerLook?: number;
}

export interface SightingWatchStats {
  /** Looks made (each: publish if due, find, compare). */
  readonly looks: number;
  readonly published: number;
  /** Other payees' sightings compared and found the same as this node's audit. */
  readonly consistent: number;
  /** Forks proven by a sighting. */
  readonly forks: number;
  /** Payers whose sighting waits to be signed again (republish), or is being signed, or failed and waits to be tried again. */
  readonly toRepublish: number;
  /** Looks or comparisons that could not be made (the DHT, the payer's gateway, a read back that does not link). */
  readonly failed: number;
}

export interface SightingWatch {
  /** A page of `payer`'s chain audited: look at its sightings soon. */
  touched(payer: string): void;
  /**
   * The highest head of `payer`'s chain a clean look started from: this node's sighting of it (or
   * of a head no lower) was published before the others' were read, and each of those was found
   * the same as what this node audited. 0 when none was.
   */
  cleared(payer: string): bigint;
  /**
   * Looks at once (or waits for the look going on, then looks again) until a head of at least
   * `atLeast` is cleared, within `budgetMs`; whether it is. Never rejects.
   */
  clear(payer: string, atLeast: bigint, budgetMs: number): Promise<boolean>;
  stats(): SightingWatchStats;
  /**
   * Signs these payers' sightings again soon (the payers whose views, anchors and convictions the
   * views file brought back at a start, once on the bus): the ones published before expire otherwise.
   */
  republish(payers: Iterable<string>): void;
  /** Resolves once no look or republish is going on (tests). */
  idle(): Promise<void>;
  stop(): void;
}

export function startSightingWatch(deps: SightingWatchDeps): SightingWatch {
  const { views, stopwatch, log } = deps;
  const counts = { looks: 0, consistent: 0, forks: 0, failed: 0 };
  /** When each payer was last looked at (the least recently looked at forgotten first). */
  const lastLook = new RecencyMap<string, number>(MAX_WAITING_LOOKS * 4);
  /** Blocks (blockKeyOf: payer and hash) found the same as this node audited them. */
  const consistent = new Set<string>();
  const waiting = new Set<string>();
  /** The look going on at each payer (one at a time), whether the background's or a receipt's (clear). */
  const running = new Map<string, Promise<boolean>>();
  /** Payers touched while their look went on. */
  const touchedMeanwhile = new Set<string>();
  const timers = new Map<string, CancelTimer>();
  /** Background looks going on (at most LOOKS_IN_FLIGHT). */
  const background = new Set<Promise<void>>();
  /** Payers whose look the background started (pump): it schedules what follows. */
  const inBackground = new Set<string>();
  /** Each payer's head as far as a clean look cleared it (most recently cleared last). */
  const clearedSeq = new RecencyMap<string, bigint>(MAX_CLEARED);
  let stopped = false;
  // Each payer with a view, published, is looked at again at each refresh (schedule: below).
  const publisher = startSightingPublisher({ ...deps, lookAgain: (payer) => schedule(payer, 0) });
  const publishDue = (payer: string) => publisher.publishDue(payer);

  const remember = (key: string) => {
    consistent.add(key);
    if (consistent.size > MAX_CONSISTENT) consistent.delete(consistent.values().next().value as string);
  };

  const convict = (payer: string, proof: ForkProof, from: string) => {
    if (!views.convictWith(payer, proof)) return;
    counts.forks += 1;
    log.warn({ payer: payer.slice(0, 12), payee: from.slice(0, 12) }, "a payer's chain forked: another payee's sighting holds another block of a seq this node audited");
  };

  /** The payer's blocks from `seq` up to `toSeq` (the hash there known: `toHash`), checked to link up to it; a ForkProof where a link the payer signed breaks. */
  const readBack = async (payer: string, seq: bigint, toSeq: bigint, toHash: Uint8Array, deadlineMs: number): Promise<Uint8Array[] | ForkProof> => {
    const fetchPage = deps.fetchChain(payer);
    const blocks: Uint8Array[] = [];
    while (BigInt(blocks.length) <= toSeq - seq) {
      // A look holds one of a few slots: a payer whose gateway answers slowly does not keep it.
      if (stopwatch.now() >= deadlineMs) throw new Error(`the payer's chain was not read back within ${LOOK_BUDGET_MS} ms`);
      const from = seq + BigInt(blocks.length);
      const page = await fetchPage(from, Math.min(PAYER_PAGE_BLOCKS, Number(toSeq - from) + 1), BACK_READ_PAGE_TIMEOUT_MS);
      if (page.blocks.length === 0) throw new Error(`the payer sent no blocks from ${from} (it reports head ${page.headSeq})`);
      blocks.push(...page.blocks.slice(0, Number(toSeq - from) + 1));
    }
    // From the top down: the last block is the one audited there; each names the one before it.
    let expected = toHash;
    for (let i = blocks.length - 1; i >= 0; i -= 1) {
      const block = blockOf(blocks[i]);
      if (block === undefined || block.seq !== seq + BigInt(i) || !sameBytes(signedBlockHash(blocks[i]), expected)) {
        const proof = i + 1 < blocks.length ? provenFork(blocks[i], blocks[i + 1]) : undefined;
        if (proof) return proof;
        throw new Error(`the payer's block ${seq + BigInt(i)} does not link up to the chain this node audited`);
      }
      expected = block.prevHash;
    }
    return blocks;
  };

  /** This node's audited block at `seq` (below the head), or a proof found on the way. */
  const auditedBlockAt = async (payer: string, audited: AuditedHead, seq: bigint, deadlineMs: number): Promise<Uint8Array | ForkProof | undefined> => {
    // The first checkpoint at or above seq, else the head: at most CHECKPOINT_BLOCKS blocks to read.
    const next = ((seq + CHECKPOINT_BLOCKS - 1n) / CHECKPOINT_BLOCKS) * CHECKPOINT_BLOCKS;
    const checkpoint = next < audited.head.seq ? audited.checkpoints.get(next) : undefined;
    const [toSeq, toHash] = checkpoint !== undefined ? [next, checkpoint] : [audited.head.seq, audited.head.hash];
    // The whole interval up to it, so that one read back serves every sighting in it.
    const start = next - CHECKPOINT_BLOCKS + 1n;
    const from = start >= 1n && toSeq - start < CHECKPOINT_BLOCKS ? start : seq;
    // Views kept from before checkpoints: past the bound, not compared here (the other payee compares it).
    if (toSeq - from >= CHECKPOINT_BLOCKS) return undefined;
    const read = await readBack(payer, from, toSeq, toHash, deadlineMs);
    if (!Array.isArray(read)) return read;
    // Every block read back is one this node audited (its hash links up to the audit): a sighting of any of them is the same, with no read.
    for (const block of read) remember(blockKeyOf(payer, SignedBlock.decode(block).block));
    return read[Number(seq - from)];
  };

  const compare = async (payer: string, audited: AuditedHead, other: VerifiedSighting, budget: { readBacks: number; deadlineMs: number }): Promise<'same' | 'fork' | 'later'> => {
    const head = audited.head.seq;
    if (other.seq === head) return sameOr(payer, audited.headBlock, other);
    if (other.seq > head) {
      // A block right after the head that names another one before it is a proof now.
      const proof = other.seq === head + 1n ? provenFork(audited.headBlock, other.block) : undefined;
      if (proof) return (convict(payer, proof, other.payee), 'fork');
      // Read on now (within the look's deadline) and compare below the new head: a payer paying
      // others all the time always has a sighting above a head read a moment ago.
      const readOn = views.readOn(payer).catch(() => undefined);
      let cancel: CancelTimer = () => undefined;
      await Promise.race([readOn, new Promise<void>((resolve) => (cancel = deps.scheduler.setTimer(Math.max(0, budget.deadlineMs - stopwatch.now()), resolve)))]);
      cancel();
      const after = views.audited(payer);
      if (after === undefined || after.head.seq < other.seq) return 'later';
      return compare(payer, after, other, budget);
    }
    // The block this node audited there, by its hash prefix: the same one needs no read (nor a
    // reachable payer: one behind NAT is compared too); another one is read back for the proof.
    if (audited.hashes.matches(other.seq, signedBlockHash(other.block)) === true) return 'same';
    if (budget.readBacks <= 0) return 'later';
    budget.readBacks -= 1;
    const mine = await auditedBlockAt(payer, audited, other.seq, budget.deadlineMs);
    if (mine === undefined) return 'later';
    if (!(mine instanceof Uint8Array)) return (convict(payer, mine, other.payee), 'fork');
    return sameOr(payer, mine, other);
  };

  /**
   * The same block (its signed bytes: the hash links vouch for them, whatever signature came with
   * them), or a fork proven; else the payer sent this node's block without its signature, which
   * proves nothing and is not the same either (compared again at a later look).
   */
  const sameOr = (payer: string, mine: Uint8Array, other: VerifiedSighting): 'same' | 'fork' => {
    if (sameBytes(SignedBlock.decode(mine).block, SignedBlock.decode(other.block).block)) return 'same';
    const proof = provenFork(mine, other.block);
    if (proof === undefined) throw new Error(`the payer's block ${other.seq} was sent without a valid signature`);
    convict(payer, proof, other.payee);
    return 'fork';
  };

  /**
   * Looks at `payer`'s sightings: publishes this node's when due, finds the others' and compares
   * them. Clean (every other sighting found the same, this node's published, the DHT answered):
   * the head it started from is cleared (cleared()). True when it was not clean (and no fork was
   * found): a later look should try again.
   */
  const look = async (payer: string): Promise<boolean> => {
    counts.looks += 1;
    lastLook.set(payer, stopwatch.now());
    const audited = views.audited(payer);
    if (audited === undefined) {
      // A view forgotten: its sighting is signed again all the same (its anchor binds the payer).
      await publishDue(payer).catch(() => undefined);
      return false;
    }
    // A flood of sightings below the head (each a read back from the payer's gateway) is compared a few a look.
    const budget = { readBacks: deps.readBacksPerLook ?? READ_BACKS_PER_LOOK, deadlineMs: stopwatch.now() + LOOK_BUDGET_MS };
    let clean = true;
    try {
      // Published or not, the others' sightings are compared: a fork is proven either way.
      await publishDue(payer).catch((err: unknown) => {
        counts.failed += 1;
        clean = false;
        log.debug({ err, payer: payer.slice(0, 12) }, "this node's sighting of a payer's chain could not be published; again at the next look");
      });
      const found = await deps.find(payer);
      // Most holders heard must hold this node's sighting of the head cleared: holders that refused
      // it (a payer's made-up payees filling its key's slots there) may hold no other payee's either,
      // and one holding it alone may be the payer's own node, echoing each payee its own (helper-156).
      // Gone from them (they restarted, or others joined next to the key): signed again at the next look.
      if (!heldByMost(found.ownHeldSeqs, audited.head.seq) || !publisher.storedByMost(payer)) {
        clean = false;
        publisher.markStale(payer);
      }
      // Not all of them: another payee's may be among those left out.
      if (found.truncated) clean = false;
      for (const signed of found.sightings) {
        if (stopped) return false;
        // Cheap checks first: this node's own, and what was found the same before (by the payer and its block's signed bytes).
        const told = unverified(signed, payer);
        if (told === undefined || told.payee === deps.nodeId || consistent.has(told.blockKey)) continue;
        if (stopwatch.now() >= budget.deadlineMs) {
          clean = false;
          break;
        }
        let other: VerifiedSighting;
        try {
          other = verifyChainSighting(SignedChainSighting.encode(signed).finish(), { nowMs: deps.clock.now(), powDifficulty: deps.powDifficulty, expectedPayer: payer });
        } catch (err) {
          if (err instanceof ChainRefusal) continue;
          throw err;
        }
        const now = views.audited(payer);
        if (now === undefined) return false;
        const verdict = await compare(payer, now, other, budget).catch((err: unknown) => {
          counts.failed += 1;
          log.debug({ err, payer: payer.slice(0, 12), payee: other.payee.slice(0, 12) }, "a sighting could not be compared with the payer's chain");
          return 'later' as const;
        });
        if (verdict === 'fork') return false;
        if (verdict === 'same') {
          counts.consistent += 1;
          remember(told.blockKey);
        } else clean = false;
      }
    } catch (err) {
      counts.failed += 1;
      clean = false;
      log.debug({ err, payer: payer.slice(0, 12) }, "the payer's sightings could not be found; looked at again later");
    }
    if (clean && audited.head.seq > (clearedSeq.get(payer) ?? 0n)) {
      clearedSeq.set(payer, audited.head.seq);
    }
    return !clean;
  };

  /** The one look at `payer` going on, or one started now. */
  const lookNow = (payer: string): Promise<boolean> => {
    const going = running.get(payer);
    if (going) return going;
    const run = look(payer)
      .catch(() => true)
      .finally(() => {
        running.delete(payer);
        // Touched while a receipt's look went on (the background's own handles it in pump).
        if (!inBackground.has(payer) && touchedMeanwhile.delete(payer)) schedule(payer, MIN_LOOK_INTERVAL_MS);
      });
    running.set(payer, run);
    return run;
  };

  const pump = () => {
    while (!stopped && background.size < LOOKS_IN_FLIGHT && waiting.size > 0) {
      const payer = waiting.values().next().value as string;
      waiting.delete(payer);
      inBackground.add(payer);
      const run: Promise<void> = lookNow(payer)
        .then((again) => {
          inBackground.delete(payer);
          // Not clean, or touched while it looked: once more, a while later.
          if (touchedMeanwhile.delete(payer) || again) schedule(payer, MIN_LOOK_INTERVAL_MS);
        })
        .finally(() => {
          background.delete(run);
          pump();
        });
      background.add(run);
    }
  };

  const schedule = (payer: string, delayMs: number) => {
    if (stopped || timers.has(payer) || waiting.has(payer)) return;
    // One look at a payer at a time: a look asked meanwhile follows it.
    if (running.has(payer)) {
      touchedMeanwhile.add(payer);
      return;
    }
    if (timers.size >= MAX_WAITING_LOOKS) return;
    if (delayMs <= 0) {
      if (waiting.size >= MAX_WAITING_LOOKS) return;
      waiting.add(payer);
      pump();
      return;
    }
    timers.set(
      payer,
      deps.scheduler.setTimer(delayMs, () => {
        timers.delete(payer);
        schedule(payer, 0);
      }),
    );
  };

  const cleared = (payer: string) => clearedSeq.get(payer) ?? 0n;

  return {
    touched(payer) {
      const since = stopwatch.now() - (lastLook.get(payer) ?? -Infinity);
      schedule(payer, MIN_LOOK_INTERVAL_MS - since);
    },
    cleared,
    async clear(payer, atLeast, budgetMs) {
      if (cleared(payer) >= atLeast) return true;
      if (stopped || (!running.has(payer) && running.size >= MAX_LOOKS_RUNNING)) return false;
      const attempt = (async () => {
        // The look going on may have started from a lower head: then one more.
        await lookNow(payer);
        if (cleared(payer) < atLeast && !stopped) await lookNow(payer);
      })();
      let cancel: CancelTimer = () => undefined;
      const timeUp = new Promise<void>((resolve) => (cancel = deps.scheduler.setTimer(budgetMs, resolve)));
      await Promise.race([attempt, timeUp]);
      cancel();
      return cleared(payer) >= atLeast;
    },
    republish: (payers) => publisher.republish(payers),
    stats() {
      const own = publisher.stats();
      return { ...counts, published: own.published, failed: counts.failed + own.failed, toRepublish: own.toRepublish };
    },
    async idle() {
      const republishing = () => publisher.inFlight();
      while (background.size > 0 || waiting.size > 0 || running.size > 0 || republishing().length > 0) await Promise.all([...background, ...running.values(), ...republishing()]);
    },
    stop() {
      stopped = true;
      publisher.stop();
      for (const cancel of timers.values()) cancel();
      timers.clear();
      waiting.clear();
    },
  };
}

/** The payee a sighting names and its block's key (blockKeyOf), unverified; undefined when it does not decode. */
function unverified(signed: SignedChainSighting, payer: string): { readonly payee: string; readonly blockKey: string } | undefined {
  try {
    const s = ChainSighting.decode(signed.sighting);
    return s.payerBlock ? { payee: s.payeeId, blockKey: blockKeyOf(payer, s.payerBlock.block) } : undefined;
  } catch {
    return undefined;
  }
}

/** What a block found the same is remembered by: its payer and the hash of its signed bytes (a signature may be shared by blocks of a weak key). */
function blockKeyOf(payer: string, blockBytes: Uint8Array): string {
  return `${payer}:${hex(sha256(blockBytes))}`;
}

function blockOf(bytes: Uint8Array): ChainBlock | undefined {
  try {
    return ChainBlock.decode(SignedBlock.decode(bytes).block);
  } catch {
    return undefined;
  }
}
