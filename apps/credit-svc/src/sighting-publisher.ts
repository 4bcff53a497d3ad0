/**
 * This node's own sightings of its payers' chains (docs/chain.md "Sightings"): published when the
 * sighting watch's looks find them due, and kept alive here. A sighting never goes below one this
 * node published, or below the anchor of a forgotten view, and is signed again while either is kept
 * (a convicted payer's too): the one slot a payee has must keep showing the branch it countersigned
 * on. Each block is kept on disk before its sighting goes out (published-sightings.ts), so a start
 * goes on from the last one published. (With no such journal, or one not yet complete, the first
 * publish after a start finds this node's own sighting in the DHT first; when that find fails, it
 * goes from what the views file kept, up to a minute older, rather than let the last one expire:
 * helper-155, helper-157.)
 *
 * Publishes of one payer go one at a time (a look's and a republish's would race, and the one signed
 * last, perhaps the lower, would take the slot). Republishes sign a sighting again with no look,
 * REPUBLISH_IN_FLIGHT at once: every payer the views file brought back at a start (republish()), and
 * every REFRESH_MS each one kept without a view (an anchor, a conviction); a payer with a view is
 * looked at again instead (`lookAgain`). A republish that fails waits, doubling from
 * REPUBLISH_RETRY_MS to REFRESH_MS, and is tried again at a sweep.
 */
import type { ChainSigner } from '@swarm/chain';
import { hex, makeChainSighting, MAX_SIGHTING_TTL_MS, signedBlockHash, verifyChainSighting } from '@swarm/chain';
import { ChainSighting, SignedChainSighting } from '@swarm/contracts';
import type { CancelTimer, Scheduler, Stopwatch, WallClock } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';
import type { PayerViews } from './payer-views';
import type { PublishedJournal } from './published-sightings';

/**
 * A sighting lives this long (the longest a sighting may), signed again once REFRESH_MS old while
 * its view, anchor or conviction is kept: a payee down for up to four hours is still compared with.
 */
export const SIGHTING_TTL_MS = MAX_SIGHTING_TTL_MS;
export const REFRESH_MS = 60 * 60_000;
/**
 * Republishes going on at once (each a store; with an incomplete journal, after a start, a find first): the 33,792 payers kept
 * at most (MAX_VIEWS + MAX_ANCHORS + MAX_CONVICTED) are all signed again within two hours while
 * each takes under 1.7 s.
 */
export const REPUBLISH_IN_FLIGHT = 8;
/** A republish that failed (the DHT out of reach, a store no node took) first waits this long; the retry sweep runs this often. */
export const REPUBLISH_RETRY_MS = 30_000;

/** What a lookup of a payer's sightings found (FindChainSightingsResponse). */
export interface FoundSightings {
  readonly sightings: readonly SignedChainSighting[];
  /** For each other DHT node the lookup heard hold sightings: the seq in this node's own sighting there (0: none). */
  readonly ownHeldSeqs: readonly bigint[];
  /** More were found than one answer carries: some are left out. */
  readonly truncated: boolean;
  /** This node's own sighting, the newest the lookup found (whether or not among `sightings`). */
  readonly own?: SignedChainSighting;
}

export interface SightingPublisherDeps {
  readonly views: Pick<PayerViews, 'audited' | 'anchorOf' | 'isConvicted'>;
  /** Stores this node's sighting (registry.publish-sighting): how many other DHT nodes took it, and refused it. */
  readonly publish: (sighting: SignedChainSighting) => Promise<{ readonly stored: number; readonly refused: number; readonly unreachable?: number }>;
  /** The sightings of a payer the DHT holds (registry.find-sightings): here, for this node's own. */
  readonly find: (payer: string) => Promise<FoundSightings>;
  /** A payer published that still has a view, at each REFRESH_MS: the watch looks at it (its look publishes). */
  readonly lookAgain: (payer: string) => void;
  /** Where each block is kept before its sighting is published (absent: the first publish after a start finds this node's own first). */
  readonly journal?: Pick<PublishedJournal, 'kept' | 'complete' | 'record'>;
  readonly signer: ChainSigner;
  readonly nodeId: string;
  readonly powDifficulty: number;
  readonly clock: WallClock;
  readonly stopwatch: Stopwatch;
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  readonly log: Logger;
}

export interface SightingPublisher {
  /** Publishes this node's sighting of `payer` if due (none yet, another block, REFRESH_MS old, or marked stale). */
  publishDue(payer: string): Promise<void>;
  /**
   * More of the nodes this node's last sighting of `payer` was sent to took it than refused it or did not answer:
   * honest nodes refusing it (their slots or keys filled by a payer) leave only the payer's own
   * nodes to hold it, and to answer for it (helper-158).
   */
  storedByMost(payer: string): boolean;
  /** Signs `payer`'s sighting again at its next publish, however recent. */
  markStale(payer: string): void;
  /** Signs these payers' sightings again soon, with no look. */
  republish(payers: Iterable<string>): void;
  stats(): { readonly published: number; readonly failed: number; readonly toRepublish: number };
  /** The republishes going on (tests wait for them). */
  inFlight(): Promise<void>[];
  stop(): void;
}

interface Published {
  readonly seq: bigint;
  readonly hash: string;
  readonly atMs: number;
  /** The payer's SignedBlock published: signed again while the view, or its anchor, is kept. */
  readonly block: Uint8Array;
  /** This node's own sighting as the DHT held it at a start was read and taken into account. */
  readonly seeded: boolean;
  readonly storedByMost: boolean;
}

export function startSightingPublisher(deps: SightingPublisherDeps): SightingPublisher {
  const { views, stopwatch, log } = deps;
  const counts = { published: 0, failed: 0 };
  const published = new Map<string, Published>();
  /** The publish of each payer's sighting going on: one at a time. */
  const publishing = new Map<string, Promise<void>>();
  /** Payers whose sighting is to be signed again with no look, in turn. */
  const toRepublish = new Set<string>();
  /** Republishes that failed: each tried again once its wait is over (at a retry sweep). */
  const failedRepublish = new Map<string, number>();
  /** The last wait of each payer whose republish failed (forgotten once one succeeds). */
  const lastWait = new Map<string, number>();
  const republishing = new Set<Promise<void>>();
  let retrySweep: CancelTimer | undefined;
  let stopped = false;

  const publishDue = (payer: string): Promise<void> => {
    const run = (publishing.get(payer) ?? Promise.resolve()).catch(() => undefined).then(() => publishNow(payer));
    publishing.set(payer, run);
    const forget = () => {
      if (publishing.get(payer) === run) publishing.delete(payer);
    };
    run.then(forget, forget);
    return run;
  };

  /** Never below what this node published, or the anchor of a forgotten view: a lower block (of a prefix two branches share) would take the slot. */
  const publishNow = async (payer: string) => {
    let last = published.get(payer);
    let seeded = (last?.seeded ?? false) || deps.journal?.complete() === true;
    if (!seeded) {
      // A find that fails (the DHT out of reach, a node on the payer's key stalling it) does not stop
      // the publish: it goes from what this node kept, and the find is made again at the next one
      // (helper-155: a payer stalled a restarted payee's finds until its sighting expired).
      const held = await ownInDht(payer).catch(() => 'failed' as const);
      if (held !== 'failed') {
        seeded = true;
        if (held !== undefined && (last === undefined || held.seq > last.seq)) last = held;
      }
    }
    const anchor = views.anchorOf(payer);
    const audited = views.audited(payer);
    let top: { seq: bigint; block: Uint8Array } | undefined = audited ? { seq: audited.head.seq, block: audited.headBlock } : undefined;
    if (anchor !== undefined && (top === undefined || anchor.seq > top.seq)) top = anchor;
    if (last !== undefined && (top === undefined || last.seq > top.seq)) top = last;
    // What this node published before this start, or before it forgot the payer, as its journal keeps it.
    const journaled = deps.journal?.kept.get(payer);
    if (journaled !== undefined && (top === undefined || journaled.seq > top.seq)) top = journaled;
    // Nothing to sign: none is due, unless the find of what the DHT holds failed (a payer convicted
    // with no view or anchor kept has only that): tried again then (helper-157).
    if (top === undefined) {
      if (!seeded) throw new Error("this node's own sighting could not be found, and it keeps nothing to sign");
      return;
    }
    const hash = hex(signedBlockHash(top.block));
    if (last !== undefined && last.hash === hash && stopwatch.now() - last.atMs < REFRESH_MS) return;
    const bytes = makeChainSighting(deps.signer, top.block, { atMs: deps.clock.now(), ttlMs: SIGHTING_TTL_MS });
    // On disk before it goes out: a crash after the publish cannot bring back a lower one.
    await deps.journal?.record(payer, top.seq, top.block);
    const { stored, refused, unreachable = 0 } = await deps.publish(SignedChainSighting.decode(bytes));
    if (stored < 1) throw new Error('no DHT node stored the sighting');
    // Most of the nodes it was sent to, those that did not answer counted against (helper-159).
    published.set(payer, { seq: top.seq, hash, atMs: stopwatch.now(), block: top.block, seeded, storedByMost: stored > refused + unreachable });
    counts.published += 1;
  };

  /**
   * What this node published before it started, where its journal may not hold it (one started over
   * an older node's state, or damaged; its views file may be up to a minute older): its own sighting
   * as the DHT holds it, so the next one goes no lower (helper-154); undefined: none.
   * The answer's own, not a search of its sightings: those may be cut short (helper-156).
   */
  const ownInDht = async (payer: string): Promise<Published | undefined> => {
    const { own } = await deps.find(payer);
    if (own === undefined) return undefined;
    try {
      if (ChainSighting.decode(own.sighting).payeeId !== deps.nodeId) return undefined;
      const mine = verifyChainSighting(SignedChainSighting.encode(own).finish(), { nowMs: deps.clock.now(), powDifficulty: deps.powDifficulty, expectedPayer: payer });
      // Signed again at once: it may not be this process's.
      return { seq: mine.seq, hash: hex(signedBlockHash(mine.block)), atMs: -Infinity, block: mine.block, seeded: true, storedByMost: false };
    } catch {
      // Not a valid one: nothing to keep above.
      return undefined;
    }
  };

  /** One sweep every REPUBLISH_RETRY_MS while republishes wait: those due are tried again. */
  const sweepLater = () => {
    if (stopped || retrySweep !== undefined) return;
    retrySweep = deps.scheduler.setTimer(REPUBLISH_RETRY_MS, () => {
      retrySweep = undefined;
      const now = stopwatch.now();
      for (const [payer, dueMs] of failedRepublish) {
        if (dueMs > now) continue;
        failedRepublish.delete(payer);
        republish(payer);
      }
      if (failedRepublish.size > 0) sweepLater();
    });
  };

  const republish = (payer: string) => {
    if (stopped || failedRepublish.has(payer)) return;
    toRepublish.add(payer);
    pumpRepublish();
  };

  const pumpRepublish = () => {
    while (!stopped && republishing.size < REPUBLISH_IN_FLIGHT && toRepublish.size > 0) {
      const payer = toRepublish.values().next().value as string;
      toRepublish.delete(payer);
      const run: Promise<void> = publishDue(payer)
        .then(() => void lastWait.delete(payer))
        .catch((err: unknown) => {
          counts.failed += 1;
          log.debug({ err, payer: payer.slice(0, 12) }, "this node's sighting of a payer's chain could not be signed again; tried again later");
          // A store no node takes (the payer's 257th payee) is not tried every 30 s for ever (helper-157).
          const waitMs = Math.min(2 * (lastWait.get(payer) ?? REPUBLISH_RETRY_MS / 2), REFRESH_MS);
          lastWait.set(payer, waitMs);
          failedRepublish.set(payer, stopwatch.now() + waitMs);
          sweepLater();
        })
        .finally(() => {
          republishing.delete(run);
          pumpRepublish();
        });
      republishing.add(run);
    }
  };

  // Sightings live SIGHTING_TTL_MS: each payer published is looked at again, or its sighting signed again, before then.
  let refresh: CancelTimer = () => undefined;
  const everyRefresh = () => {
    refresh = deps.scheduler.setTimer(REFRESH_MS, () => {
      for (const payer of published.keys()) {
        if (views.audited(payer) !== undefined) deps.lookAgain(payer);
        else if (views.anchorOf(payer) !== undefined || views.isConvicted(payer)) republish(payer);
        else published.delete(payer);
      }
      if (!stopped) everyRefresh();
    });
  };
  everyRefresh();

  return {
    publishDue,
    storedByMost: (payer) => published.get(payer)?.storedByMost === true,
    markStale(payer) {
      const mine = published.get(payer);
      if (mine !== undefined) published.set(payer, { ...mine, atMs: -Infinity });
    },
    republish(payers) {
      for (const payer of payers) republish(payer);
    },
    stats: () => ({ ...counts, toRepublish: toRepublish.size + republishing.size + failedRepublish.size }),
    inFlight: () => [...republishing],
    stop() {
      stopped = true;
      refresh();
      retrySweep?.();
      toRepublish.clear();
    },
  };
}
