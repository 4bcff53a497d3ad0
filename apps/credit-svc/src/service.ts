import type { BusClient } from '@swarm/bus';
import { fromWire, startBusService } from '@swarm/bus';
import type { LedgerEntry, ReceiptOutcome, VoidOutcome } from '@swarm/contracts';
import {
  CreditAcceptChainOffer,
  CreditAcceptReceipt,
  CreditAcceptVoid,
  CreditAudit,
  CreditBalance,
  CreditChainBlocks,
  CreditCharge,
  CreditDefundAgent,
  CreditEscrow,
  CreditFundAgent,
  CreditHealth,
  CreditPaidVoids,
  CreditReinstateVoided,
  CreditRefund,
  CreditReserve,
  CreditSettle,
  CreditStanding,
  ErrorCode,
  GatewayDeliverReceipts,
  GatewayFetchChain,
  GatewayOfferChain,
  GatewayVoidReceipts,
  LedgerEntryEvents,
  RegistryFindChainSightings,
  RegistryPublishChainSighting,
  RouterReportFork,
  RouterReportVoidBreach,
  SwarmError,
} from '@swarm/contracts';
import { createChainBook, createStandingIndex, MAX_ENTRIES_PAGE, rebuildStanding } from '@swarm/credit';
import { openLedger } from '@swarm/credit-level';
import type { Scheduler, Stopwatch, WallClock } from '@swarm/determinism';
import type { ChainSigner } from '@swarm/chain';
import { MAX_CHAIN_OFFER_BYTES, MAX_SIGHTING_TTL_MS, MAX_VOID_BREACH_PROOF_BYTES } from '@swarm/chain';
import { loadOrCreateIdentity, writeFileOnce } from '@swarm/identity';
import type { Logger, TraceContext } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { CreditConfig } from './config';
import { startEscrowSweeper } from './escrow-sweeper';
import { createCreditHandlers, publishEntries } from './handlers';
import type { DeliveryOutcome, VoidDeliveryOutcome } from './receipt-outbox';
import { startReceiptOutbox } from './receipt-outbox';
import type { PayerViewStats } from './payer-views';
import { startForkReports } from './fork-reports';
import { loadPayerViews, PAYER_VIEWS_FILE, startPayerViewSaver, tidyPayerViews } from './payer-view-file';
import type { FetchPayerPage, SightingGate } from './payer-views';
import { startPayerViews } from './payer-views';
import type { SightingWatch, SightingWatchStats } from './sighting-watch';
import type { PublishedJournal } from './published-sightings';
import { isNewLedger, openPublishedJournal, PUBLISHED_SIGHTINGS_FILE } from './published-sightings';
import { startSightingWatch } from './sighting-watch';
import { startVoidWatch } from './void-watch';

export const SERVICE_NAME = 'credit-svc';
export const SERVICE_VERSION = '0.1.0';
/**
 * Three 128-char ids and a uint64 fit in well under 1 KiB, as do a transfer's agent account and
 * 64-char transfer id; anything bigger is not a credit request.
 */
export const MAX_CREDIT_REQUEST_BYTES = 1024;
/**
 * A reserve names up to 16 payees (ESCROW_MAX_PAYEES) and a charge up to 16 payouts, of up to 128
 * characters each, beside an escrow id and an account of 128: about 2.6 KiB at most. Under the
 * 1 KiB of the other credit requests, a reserve naming 14 node ids was refused, and with it every
 * task of a skill 14 nodes provide.
 */
export const MAX_RESERVE_REQUEST_BYTES = 4096;
/**
 * A settle may name MAX_PAYOUTS payouts of a 128-char payee and a uint64 each (about 145 bytes
 * apiece, 2.4 KiB for 16 with the escrow id); one that pays other nodes also names the task (hashes)
 * and each remote payee's key and share, about 180 more bytes per payee (3 KiB for 16). 8 KiB fits
 * that with room, and nothing much bigger.
 */
export const MAX_SETTLE_REQUEST_BYTES = 8192;
/** A receipt (at most MAX_SIGNED_RECEIPT_BYTES, 8,336) and the sender's id; a void (MAX_SIGNED_VOID_BYTES, 8,408) with the sender's id and a flag. */
export const MAX_ACCEPT_RECEIPT_BYTES = 8_704;
/** The largest offer and the sender's id. */
export const MAX_ACCEPT_CHAIN_OFFER_BYTES = MAX_CHAIN_OFFER_BYTES + 256;
/** A ReinstateVoidedRequest is a VoidBreachProof in one field. */
export const MAX_REINSTATE_REQUEST_BYTES = MAX_VOID_BREACH_PROOF_BYTES + 16;
/**
 * The gateway may try two addresses of the peer, with a registry lookup between (10 s + 3.5 s +
 * 10 s, ledger-batch.ts in gateway-svc); this leaves it room to answer. Voids go the same way.
 */
export const DELIVER_RECEIPT_TIMEOUT_MS = 25_000;
/** One offer of this node's chain to a payee: the gateway finding the peer (a registry lookup) and the payee's CHAIN_PEER_TIMEOUT_MS. */
export const OFFER_CHAIN_TIMEOUT_MS = 10_000;
/**
 * A page of a payee's chain through the gateway, for the void watch: the gateway may look the
 * payee up in the DHT, then gives its peer call 5 s (CHAIN_PEER_TIMEOUT_MS in gateway-svc).
 */
export const WATCH_CHAIN_PAGE_TIMEOUT_MS = 15_000;
/**
 * The most a page of a payer's chain through the gateway is given, before its receipt is
 * countersigned (payer-views.ts gives each what is left of its read's 3 s).
 */
export const PAYER_CHAIN_PAGE_TIMEOUT_MS = 3_000;
/** A sighting stored in the DHT, or those of a payer found there: a lookup through the gateways. */
export const SIGHTING_CALL_TIMEOUT_MS = 10_000;
/** A void breach proof to the router, which checks it and may write it to disk. */
export const REPORT_BREACH_TIMEOUT_MS = 10_000;

/**
 * Beside the node key, outside the ledger: this key has started a chain. A ledger that has lost the
 * chain (deleted, restored from an old copy) is then refused rather than given a second genesis,
 * which would be a fork proof against the node (docs/chain.md).
 */
export const CHAIN_STARTED_FILE = 'chain-started';

export interface CreditServiceDeps {
  config: CreditConfig;
  log: Logger;
  nc: NatsConnection;
  /** This node's id, which is also its ledger account. */
  nodeId: string;
  /** Signs the node's chain and its receipts: the node key (default: the one in the data dir). */
  signer?: ChainSigner;
  /** Ledger timestamps and escrow expiries (epoch ms). */
  clock: WallClock;
  /** Audit timings. */
  stopwatch: Stopwatch;
  /** Paces the escrow sweeper. */
  scheduler: Scheduler;
}

export interface CreditService {
  /** Stops the sweeper and intake, waits (within the grace period) for in-flight requests, closes the ledger. */
  stop(): Promise<void>;
}

export async function startCreditService(deps: CreditServiceDeps): Promise<CreditService> {
  const { config, log, nc, nodeId, clock, stopwatch, scheduler } = deps;
  const signer = deps.signer ?? (await loadOrCreateIdentity(config.dataDir));
  // Payers' chains are read through the gateway, on the bus, which starts after the ledger opens;
  // no receipt is accepted before it does.
  const gateway: { client?: BusClient } = {};
  // In the ledger's folder: credit-svc's own state, the one folder it may write where the data dir is read-only (docker-compose.yml).
  const viewsFile = join(config.ledgerPath, PAYER_VIEWS_FILE);
  const marker = join(config.markerDir, CHAIN_STARTED_FILE);
  const chainStarted = await access(marker).then(
    () => true,
    () => false,
  );
  // Asked before anything is written there: a new node published no sighting before this start.
  const newLedger = !chainStarted && (await isNewLedger(config.ledgerPath));
  // Read only: the folder may be another credit-svc's until the ledger's lock is this one's (tidied below; helper-163).
  const kept = config.chain.checkPayers ? await loadPayerViews(viewsFile, nodeId, config.chain.rules, log, { tidy: false }) : undefined;
  // A fork a payer showed this node goes to its router, which keeps the proof and trusts the payer no more.
  const onBus = (): BusClient => {
    if (!gateway.client) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'credit-svc is not on the bus yet', true);
    return gateway.client;
  };
  const fetchPayerChain =
    (payer: string): FetchPayerPage =>
    (fromSeq, limit, timeoutMs) =>
      onBus().request(GatewayFetchChain, { peerNodeId: payer, fromSeq, limit }, { timeoutMs: Math.min(timeoutMs, PAYER_CHAIN_PAGE_TIMEOUT_MS) });
  const forkReports = startForkReports({
    report: async (proof) => {
      if (!gateway.client) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'credit-svc is not on the bus yet', true);
      return gateway.client.request(RouterReportFork, { proof }, { timeoutMs: REPORT_BREACH_TIMEOUT_MS });
    },
    scheduler,
    log,
  });
  // The watch reads the views and the views ask the watch: it is set once both run.
  const late: { watch?: SightingWatch } = {};
  const gate: SightingGate = {
    clear: async (payer, atLeast, budgetMs) => (await late.watch?.clear(payer, atLeast, budgetMs)) ?? false,
    cleared: (payer) => late.watch?.cleared(payer) ?? 0n,
  };
  const payers = kept
    ? startPayerViews({
        rules: config.chain.rules,
        clock,
        stopwatch,
        scheduler,
        restored: kept.views,
        convicted: kept.convicted,
        anchors: kept.anchors,
        onFork: (payer, proof) => {
          log.warn({ payer }, "a payer's chain forked (a fork proof: docs/chain.md); its receipts are refused for good and the proof goes to the router");
          forkReports.add(payer, proof);
          void viewSaver?.saveNow();
        },
        fetchChain: fetchPayerChain,
        onAudited: (payer) => late.watch?.touched(payer),
        // Set below, once the watch runs (it reads these views).
        ...(config.sightings === 'hold' ? { sightings: gate } : {}),
      })
    : undefined;
  let journal: PublishedJournal | undefined;
  const adopted: string[] = [];
  let sightings: SightingWatch | undefined;
  /** The payers' views, the sighting watch, the fork reports and the journal stopped, at a failed start (no timer or open file left behind) and at stop. */
  const stopPayerWork = async () => {
    payers?.stop();
    sightings?.stop();
    forkReports.stop();
    await journal?.close();
  };
  const book = createChainBook({ signer, nodeAccount: nodeId, rules: config.chain.rules, clock, ...(payers ? { payers } : {}) });
  const ledger = await openLedger({
    path: config.ledgerPath,
    clock,
    nodeAccount: nodeId,
    genesisGrant: config.genesisGrant,
    sync: config.syncWrites,
    escrowLifetime: config.escrowLifetime,
    hooks: book.hooks,
  }).catch(async (err: unknown) => {
    await stopPayerWork();
    throw err;
  });
  // Contribution standing lives in memory, rebuilt from the window of the log before serving, then
  // kept up to date by every committed entry (docs/priority.md).
  const standing = createStandingIndex(config.standing);
  let bus;
  try {
    // Once the ledger's lock is this process's: a second credit-svc on this ledger, refused by the
    // lock, would otherwise have rewritten the journal under the running one (helper-162), or removed
    // its views file's write in flight (helper-163).
    if (kept) await tidyPayerViews(viewsFile, kept, log);
    if (kept && payers) {
      const views = payers;
      // Each sighting this node publishes is kept on disk first: a start goes on from the last one.
      journal = await openPublishedJournal({
        path: join(config.ledgerPath, PUBLISHED_SIGHTINGS_FILE),
        clock,
        log,
        newLedger,
        keep: (payer) => views.audited(payer) !== undefined || views.anchorOf(payer) !== undefined || views.isConvicted(payer),
      });
      // Payers whose sighting may still live that the views file did not keep (helper-163: killed
      // before its first write): anchors, signed again below and hourly, as the file's own.
      for (const [payer, published] of journal.kept) {
        if (clock.now() - published.atMs < MAX_SIGHTING_TTL_MS && views.adoptAnchor(payer, { seq: published.seq, block: published.block })) adopted.push(payer);
      }
    }
    // Other payees' sightings of each payer's chain, compared with what this node audited (docs/chain.md "Sightings").
    sightings = payers
      ? startSightingWatch({
          views: payers,
          ...(journal ? { journal } : {}),
          fetchChain: fetchPayerChain,
          publish: (sighting) => onBus().request(RegistryPublishChainSighting, { sighting }, { timeoutMs: SIGHTING_CALL_TIMEOUT_MS }),
          find: (payer) => onBus().request(RegistryFindChainSightings, { payerId: payer }, { timeoutMs: SIGHTING_CALL_TIMEOUT_MS }),
          signer,
          nodeId,
          powDifficulty: config.powDifficulty,
          clock,
          stopwatch,
          scheduler,
          log,
        })
      : undefined;
    late.watch = sightings;
    await book.open(ledger, { chainStarted });
    if (!chainStarted) await markChainStarted(marker, book.nodeId, log);
    const rebuilt = await rebuildStanding(ledger, standing, clock.now(), MAX_ENTRIES_PAGE);
    log.info({ fromSeq: rebuilt.fromSeq.toString(), scanned: rebuilt.scanned, payees: standing.size() }, 'standing rebuilt from the ledger log');
    bus = await startBusService({ nc, log, name: SERVICE_NAME, version: SERVICE_VERSION, description: 'LevelDB credit ledger', nodeId });
  } catch (err) {
    await stopPayerWork();
    await ledger.close();
    throw err;
  }
  const { client } = bus;
  gateway.client = client;
  // Started once the service runs: a failed start leaves no timer behind.
  const viewSaver = payers ? startPayerViewSaver({ views: payers, path: viewsFile, nodeId, rules: config.chain.rules, scheduler, log }) : undefined;
  // Convictions kept from before: the router may not have taken them (it answers a known one as such).
  for (const [payer, proof] of kept?.convicted ?? []) forkReports.add(payer, proof);
  // The sightings published before this start expire unless signed again: every payer kept, now it can reach the DHT.
  if (kept) sightings?.republish([...kept.views.map((v) => v.payer), ...kept.anchors.map(([payer]) => payer), ...kept.convicted.map(([payer]) => payer), ...adopted]);
  // Every committed entry passes here once (handlers and sweeper alike): the standing index first,
  // so a publish that throws cannot skip it.
  const publish = (entry: LedgerEntry, trace?: TraceContext) => {
    standing.record(entry);
    client.publish(LedgerEntryEvents, entry, trace);
  };
  const outbox = startReceiptOutbox({
    book,
    deliver: async (payee, receipts) => {
      const res = await client.request(GatewayDeliverReceipts, { peerNodeId: payee, receipts: [...receipts] }, { timeoutMs: DELIVER_RECEIPT_TIMEOUT_MS });
      return res.outcomes.map(outcomeOf);
    },
    deliverVoids: async (payee, voids) => {
      const res = await client.request(GatewayVoidReceipts, { peerNodeId: payee, voids: [...voids] }, { timeoutMs: DELIVER_RECEIPT_TIMEOUT_MS });
      return res.outcomes.map(voidOutcomeOf);
    },
    chainOffers: {
      send: async (payee, fromSeq, blocks, timeoutMs) => {
        const res = await client.request(
          GatewayOfferChain,
          { peerNodeId: payee, offer: { fromSeq, blocks: [...blocks] } },
          { timeoutMs: Math.min(timeoutMs, OFFER_CHAIN_TIMEOUT_MS) },
        );
        return res.wantedFromSeq;
      },
      blocks: (fromSeq, limit) => book.blocks(fromSeq, limit),
    },
    announce: (entries) => publishEntries(entries, publish, log),
    stopwatch,
    scheduler,
    intervalMs: config.chain.passMs,
    log,
  });
  const voidWatch = startVoidWatch({
    nodeId,
    paidVoids: (afterId, limit) => book.paidVoids(afterId, limit),
    fetchChain: (peer, signal) => (fromSeq, limit) => client.request(GatewayFetchChain, { peerNodeId: peer, fromSeq, limit }, { timeoutMs: WATCH_CHAIN_PAGE_TIMEOUT_MS, signal }),
    reinstate: async (proof) => {
      const committed = await book.reinstateVoided(proof);
      publishEntries(committed.entries, publish, log);
      return !committed.result.alreadyReinstated;
    },
    report: async (proof, signal) => {
      await client.request(RouterReportVoidBreach, { proof }, { timeoutMs: REPORT_BREACH_TIMEOUT_MS, signal });
    },
    scheduler,
    stopwatch,
    intervalMs: config.chain.voidWatchMs,
    log,
  });
  const handlers = createCreditHandlers({
    ledger,
    nodeAccount: nodeId,
    log,
    publish,
    stopwatch,
    standing,
    clock,
    book,
    onReceiptsOwed: () => outbox.kick(),
    ...(payers ? { payers } : {}),
  });
  const opts = { maxRequestBytes: MAX_CREDIT_REQUEST_BYTES };
  bus.serve(CreditReserve, handlers.reserve, { maxRequestBytes: MAX_RESERVE_REQUEST_BYTES });
  bus.serve(CreditSettle, handlers.settle, { maxRequestBytes: MAX_SETTLE_REQUEST_BYTES });
  bus.serve(CreditRefund, handlers.refund, opts);
  bus.serve(CreditCharge, handlers.charge, { maxRequestBytes: MAX_RESERVE_REQUEST_BYTES });
  bus.serve(CreditBalance, handlers.balance, opts);
  bus.serve(CreditAudit, handlers.audit, opts);
  bus.serve(CreditEscrow, handlers.escrow, opts);
  bus.serve(CreditFundAgent, handlers.fundAgent, opts);
  bus.serve(CreditDefundAgent, handlers.defundAgent, opts);
  bus.serve(CreditStanding, handlers.standing, opts);
  bus.serve(CreditAcceptReceipt, handlers.acceptReceipt, { maxRequestBytes: MAX_ACCEPT_RECEIPT_BYTES });
  bus.serve(CreditAcceptVoid, handlers.acceptVoid, { maxRequestBytes: MAX_ACCEPT_RECEIPT_BYTES });
  bus.serve(CreditChainBlocks, handlers.chainBlocks, opts);
  bus.serve(CreditAcceptChainOffer, handlers.acceptChainOffer, { maxRequestBytes: MAX_ACCEPT_CHAIN_OFFER_BYTES });
  bus.serve(CreditPaidVoids, handlers.paidVoids, opts);
  bus.serve(CreditReinstateVoided, handlers.reinstateVoided, { maxRequestBytes: MAX_REINSTATE_REQUEST_BYTES });
  // seq starts at 1 and has no gaps, so the entry count is the last seq.
  bus.serveHealth(CreditHealth, () => {
    const failing = outbox.failing();
    const voided = book.voided();
    const watched = voidWatch.stats();
    return {
      entries: ledger.lastSeq().toString(),
      lastSeq: ledger.lastSeq().toString(),
      syncWrites: String(config.syncWrites),
      openEscrows: String(ledger.openEscrows()),
      chainSeq: book.head().seq.toString(),
      // Credit promised to other nodes (reserved for open escrows, pledged in the chain to receipts in flight), and receipts stuck on their payee.
      chainPledged: book.pledged().toString(),
      receiptsFailing: String(failing.count),
      // Receipts refused for good and voided by their payees (docs/chain.md "Voids"): the credit came back.
      receiptsVoided: voided.count.toString(),
      creditVoided: voided.amount.toString(),
      // The watch over payees' chains for voided receipts they kept (void-watch.ts).
      voidBreachesFound: String(watched.breachesFound),
      // Payees' chains that did not go on from where the watch read them before: each wants an audit.
      voidWatchBrokenChains: String(watched.brokenChains),
      // Payers' chains read before countersigning their receipts (payer-views.ts): reads, blocks, and those that did not audit.
      ...(payers ? payerHealth(payers.stats()) : {}),
      ...(sightings ? sightingHealth(sightings.stats()) : {}),
      oldestFailingReceiptMs: String(Math.round(failing.oldestMs)),
    };
  });
  const sweeper = startEscrowSweeper({ ledger, clock, scheduler, intervalMs: config.escrowSweepMs, log, publish });
  const head = book.head();
  log.info(
    { ledger: config.ledgerPath, lastSeq: ledger.lastSeq().toString(), syncWrites: config.syncWrites, escrowLifetime: config.escrowLifetime, chainSeq: head.seq.toString() },
    'credit-svc serving',
  );

  const stopBus = bus.stop.bind(bus);
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        // The sweeper and the outbox first: they write to the ledger and use the bus.
        await Promise.all([stopPayerWork(), sweeper.stop(), outbox.stop(), voidWatch.stop(), viewSaver?.stop()]);
        await stopBus(config.graceMs);
        await ledger.close();
      })();
      return stopping;
    },
  };
}

/** Writes the marker once. A directory that cannot be written is warned about, not fatal (SWARM_CREDIT_MARKER_DIR gives one that can). */
async function markChainStarted(file: string, nodeId: string, log: Logger): Promise<void> {
  try {
    await writeFileOnce(file, new TextEncoder().encode(`${nodeId}\n`));
  } catch (err) {
    log.warn(
      { err, file },
      'could not record that this node started its chain (set SWARM_CREDIT_MARKER_DIR to a writable directory that outlives the ledger); a ledger lost later would not be caught before a second genesis',
    );
  }
}

/** A receipt's outcome as the gateway answered it, for the outbox: countersigned, or why not. */
function outcomeOf(outcome: ReceiptOutcome): DeliveryOutcome {
  if (outcome.error !== undefined) return { error: fromWire(outcome.error) };
  if (outcome.receipt !== undefined) return { countersigned: outcome.receipt };
  return { error: new Error('the gateway answered neither a receipt nor an error') };
}

/** A void's outcome as the gateway answered it: countersigned void, the receipt countersigned before it, or why neither. */
function voidOutcomeOf(outcome: VoidOutcome): VoidDeliveryOutcome {
  if (outcome.error !== undefined) return { error: fromWire(outcome.error) };
  if (outcome.signedVoid !== undefined) return { voided: outcome.signedVoid };
  if (outcome.receipt !== undefined) return { countersigned: outcome.receipt };
  return { error: new Error('the gateway answered neither a void, a receipt nor an error') };
}

function payerHealth(stats: PayerViewStats): Record<string, string> {
  return {
    payerChainReads: String(stats.reads),
    payerChainBlocksRead: String(stats.blocksRead),
    // Of those, blocks payers offered (their gateways out of reach: payers behind NAT).
    payerChainBlocksOffered: String(stats.offeredBlocks),
    payerChainsRefused: String(stats.badChains),
    payerChainReadsFailed: String(stats.failedReads),
    payerChainsQueued: String(stats.queued),
    // Chains taken back from <data-dir>/credit-ledger/payer-views at start, read on from their heads.
    payerChainsRestored: String(stats.restored),
    // Payers this node convicted of a fork (docs/chain.md "Fork proofs"), each reported to the router.
    payerChainForks: String(stats.forks),
  };
}

function sightingHealth(stats: SightingWatchStats): Record<string, string> {
  return {
    // Looks at payers' sightings in the DHT (docs/chain.md "Sightings"): this node's published, others' found the same, forks proven by them, looks or comparisons that failed.
    sightingLooks: String(stats.looks),
    sightingsPublished: String(stats.published),
    sightingsConsistent: String(stats.consistent),
    sightingForks: String(stats.forks),
    // Payers whose sighting waits to be signed again (after a start, or kept without a view).
    sightingsToRepublish: String(stats.toRepublish),
    sightingsFailed: String(stats.failed),
  };
}
