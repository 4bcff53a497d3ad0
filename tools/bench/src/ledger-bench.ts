/**
 * Synced settlements: reserve + settle pairs with every batch fsynced, at c=1 and c=16, next to
 * the floor of the same disk in the same run: raw classic-level synced batches, two per pair (a
 * reserve and a settle write one batch each), with as many writers in flight. LevelDB groups
 * concurrent synced writers itself, so the raw figure at c=16 is what a ledger that groups its
 * operations could reach. Each row gets a fresh directory under the OS temp dir.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createBusClient } from '@swarm/bus';
import { decodeSignedReceipt, encodeSignedReceipt } from '@swarm/chain';
import type { SignedReceipt } from '@swarm/contracts';
import { CreditCharge, CreditReserve, CreditSettle } from '@swarm/contracts';
import { openLedger } from '@swarm/credit-level';
import { loadCreditConfig, startCreditService } from '@swarm/credit-svc';
import { systemClock, systemScheduler, systemStopwatch } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import { startNatsServer } from '@swarm/testing';
import { Level } from 'level';
import { connect } from 'nats';
import type { ChainLedger } from './chain-ledger';
import { GRANT, openChainLedger } from './chain-ledger';
import type { PayeeReply, PayeeRequest, PayeeWorkerData } from './payee-worker';
import { measure } from './stats';

export interface LedgerBenchOptions {
  /** Pairs per row. */
  pairs: number;
  concurrency: number;
}

export interface LedgerBenchRow {
  name: string;
  concurrency: number;
  pairs: number;
  pairsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

const NODE = 'bench-node';
const PAYEE = 'bench-peer';
const WARM_UP_PAIRS = 100;

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'swarm-ledger-bench-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function row(name: string, pairs: number, concurrency: number, pair: (i: number) => Promise<unknown>): Promise<LedgerBenchRow> {
  let next = 0;
  await measure(WARM_UP_PAIRS, concurrency, () => pair((next += 1)));
  const s = await measure(pairs, concurrency, () => pair((next += 1)));
  return { name, concurrency, pairs, pairsPerSec: s.opsPerSec, p50Ms: s.p50Ms, p99Ms: s.p99Ms };
}

/** Two synced batches per pair of about the records a reserve and a settle write. */
function rawLevel(pairs: number, concurrency: number): Promise<LedgerBenchRow> {
  return inTempDir(async (dir) => {
    const db = new Level<string, string>(join(dir, 'raw'));
    await db.open();
    try {
      const account = '{"available":"999990","escrowed":"10"}';
      const escrow = '{"payer":"bench-node","amount":"10","state":"open","expiresAtMs":1700000150000,"payees":["bench-peer"]}';
      const entry = '{"seq":"2","kind":"RESERVE","escrowId":"x","from":"bench-node","to":"","amount":"10","atMs":"1700000000000"}';
      const batch = (i: number, step: string) =>
        db.batch(
          [
            { type: 'put', key: `acct!${NODE}`, value: account },
            { type: 'put', key: `escrow!e${i}`, value: escrow },
            { type: 'put', key: `log!${i}${step}`, value: entry },
            { type: 'put', key: 'meta!nextSeq', value: String(i) },
          ],
          { sync: true },
        );
      return await row('raw classic-level synced batches (2 per pair)', pairs, concurrency, async (i) => {
        await batch(i, 'r');
        await batch(i, 's');
      });
    } finally {
      await db.close();
    }
  });
}

/** `maxGroupOperations` 1 writes one batch per operation: the ledger before group commit. */
function inProcessLedger(pairs: number, concurrency: number, maxGroupOperations?: number): Promise<LedgerBenchRow> {
  return inTempDir(async (dir) => {
    const ledger = await openLedger({ path: join(dir, 'ledger'), sync: true, clock: systemClock, nodeAccount: NODE, genesisGrant: GRANT, maxGroupOperations });
    const name = maxGroupOperations === 1 ? 'ledger in-process, fsync on, one batch per operation (before)' : 'ledger in-process, fsync on, group commit';
    try {
      return await row(name, pairs, concurrency, async (i) => {
        await ledger.reserve({ escrowId: `e${i}`, account: NODE, amount: 10n, expiresAtMs: 0n, payees: [PAYEE] });
        await ledger.settle({ escrowId: `e${i}`, payee: PAYEE, amount: 7n, payouts: [] });
      });
    } finally {
      await ledger.close();
    }
  });
}

/**
 * Settlement i: reserve and settle one task paying the payee 7, its receipt (carrying a stand-in serve
 * ticket: no gateway checks it here) left in the payer's outbox; answers the receipt's id.
 */
function settlementsTo(payer: ChainLedger, payeeId: string, payeeKey: Uint8Array): (i: number) => Promise<string> {
  const hash = new Uint8Array(32).fill(7);
  const payeeKeys = [{ nodeId: payeeId, publicKey: payeeKey, serveTicket: hash }];
  return async (i) => {
    const escrowId = `e${i}`;
    await payer.ledger.reserve({ escrowId, account: payer.id, amount: 10n, expiresAtMs: 0n, payees: [payeeId] });
    await payer.ledger.settle({
      escrowId,
      payee: '',
      amount: 0n,
      payouts: [{ payee: payeeId, amount: 7n }],
      task: { taskId: escrowId, taskHash: hash, resultHash: hash, shares: [], payeeKeys },
    });
    return `${escrowId}:${payer.id}:${payeeId}`;
  };
}

/** Two nodes' ledgers with chains; `run` gets a settlement (reserve + settle paying the payee) to use. */
function withTwoChains<T>(run: (payer: ChainLedger, payee: ChainLedger, settle: (i: number) => Promise<string>) => Promise<T>): Promise<T> {
  return inTempDir(async (dir) => {
    const payer = await openChainLedger(dir, 'payer');
    const payee = await openChainLedger(dir, 'payee');
    const settle = settlementsTo(payer, payee.id, payee.signer.publicKey);
    try {
      return await run(payer, payee, settle);
    } finally {
      await payer.ledger.close();
      await payee.ledger.close();
    }
  });
}

/** The payee countersigns and appends a receipt, the payer appends it: what delivery does. */
async function deliver(payer: ChainLedger, payee: ChainLedger, signed: SignedReceipt): Promise<void> {
  const accepted = await payee.book.acceptReceipt({ receipt: signed, fromNodeId: payer.id });
  await payer.book.completeReceipt(accepted.result);
}

/**
 * Settlements between two nodes' ledgers, each with its chain, one after another per lane: the
 * payer reserves and settles (signing the receipt into its outbox), the payee accepts it
 * (countersigns, appends RECEIPT_IN, credits itself), the payer appends it as RECEIPT_OUT. Four
 * synced batches in a row and four signatures per settlement, in one process (no bus, no gateways).
 */
function inProcessLedgersWithReceipts(pairs: number, concurrency: number): Promise<LedgerBenchRow> {
  return withTwoChains((payer, payee, settle) =>
    row('two ledgers with chains, fsync on: settle, then its receipt both ways', pairs, concurrency, async (i) => {
      const id = await settle(i);
      const owed = payer.ledger.side('outbox', id);
      if (!owed) throw new Error(`no receipt in the outbox for ${id}`);
      await deliver(payer, payee, decodeSignedReceipt(owed));
    }),
  );
}

/**
 * As a node runs it: lanes reserve and settle (the task's path), while one delivery loop takes the
 * outbox up to 64 receipts at a time, as credit-svc's outbox does, and delivers them side by side.
 * Settlements per second count until the last receipt is in both chains.
 */
function settlementsWithOutbox(pairs: number, concurrency: number): Promise<LedgerBenchRow> {
  return withTwoChains((payer, payee, settle) =>
    settlingWhileDelivering('same, receipts delivered by an outbox loop (64 at once) beside the settles', { pairs, concurrency, payer }, settle, async () => {
      for (let page = await payer.book.pending(64); page.length > 0; page = await payer.book.pending(64)) {
        await Promise.all(page.map((p) => deliver(payer, payee, p.signed)));
      }
    }),
  );
}

/**
 * Lanes settle (after a warm-up) while a loop runs `drain` over the payer's outbox; settlements per
 * second count until the last receipt is in both chains (the payer has nothing pledged left).
 */
async function settlingWhileDelivering(
  name: string,
  run: { readonly pairs: number; readonly concurrency: number; readonly payer: ChainLedger },
  settle: (i: number) => Promise<unknown>,
  drain: () => Promise<void>,
): Promise<LedgerBenchRow> {
  const { pairs, concurrency, payer } = run;
  let next = 0;
  await measure(WARM_UP_PAIRS, concurrency, () => settle((next += 1)));
  await drain();
  let settling = true;
  const t0 = performance.now();
  const delivery = (async () => {
    while (settling) {
      await drain();
      await new Promise((r) => setTimeout(r, 1));
    }
    await drain();
  })();
  let s;
  try {
    s = await measure(pairs, concurrency, () => settle((next += 1)));
  } catch (err) {
    // The settles' error is the one to report; the loop ends before the ledgers close under it.
    settling = false;
    await delivery.catch(() => undefined);
    throw err;
  }
  settling = false;
  await delivery;
  const seconds = (performance.now() - t0) / 1000;
  if (payer.book.pledged() !== 0n) throw new Error('receipts left undelivered');
  return { name, concurrency, pairs, pairsPerSec: pairs / seconds, p50Ms: s.p50Ms, p99Ms: s.p99Ms };
}

/** The payee node in its own thread (payee-worker.ts): countersigns pages of receipts on the other core. */
async function startPayeeThread(dir: string, payer: string) {
  const worker = new Worker(join(__dirname, 'payee-worker.js'), { workerData: { dir, payer } satisfies PayeeWorkerData });
  const waiting = new Map<number, { resolve: (r: SignedReceipt[]) => void; reject: (e: Error) => void }>();
  let ready!: (r: { id: string; publicKey: Uint8Array }) => void;
  let failed!: (e: Error) => void;
  let closed!: () => void;
  const started = new Promise<{ id: string; publicKey: Uint8Array }>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  const done = new Promise<void>((resolve) => (closed = resolve));
  // A worker that throws or exits fails whatever waits on it, rather than leaving it waiting.
  const gone = (err: Error) => {
    failed(err);
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    closed();
  };
  worker.on('error', gone);
  worker.on('exit', (code) => gone(new Error(`the payee worker exited (code ${code})`)));
  worker.on('message', (m: PayeeReply) => {
    if ('ready' in m) ready({ id: m.id, publicKey: m.publicKey });
    else if ('closed' in m) closed();
    else {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if ('error' in m) w?.reject(new Error(m.error));
      else w?.resolve(m.countersigned.map(decodeSignedReceipt));
    }
  });
  let next = 0;
  const payee = await started;
  return {
    ...payee,
    countersign(receipts: readonly SignedReceipt[]): Promise<SignedReceipt[]> {
      const id = (next += 1);
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, receipts: receipts.map(encodeSignedReceipt) } satisfies PayeeRequest);
      });
    },
    async close() {
      worker.postMessage({ close: true } satisfies PayeeRequest);
      await done;
      await worker.terminate();
    },
  };
}

/**
 * The payer's ledger here, the payee's in a worker thread of the same process (so the payee's work
 * may use the other core, as a second node's credit-svc would; both share libuv's thread pool for
 * their fsyncs): receipts taken from the outbox up to 128 at a time and sent as two calls of 64 side
 * by side (credit-svc's outbox sends up to 2 calls per payee), countersigned there and appended here.
 * Settlements per second count until the last receipt is in both chains.
 */
function settlementsWithPayeeThread(pairs: number, concurrency: number): Promise<LedgerBenchRow> {
  return inTempDir(async (dir) => {
    const payer = await openChainLedger(dir, 'payer');
    const payee = await startPayeeThread(dir, payer.id);
    const settle = settlementsTo(payer, payee.id, payee.publicKey);
    const drain = async () => {
      for (let due = await payer.book.pending(128); due.length > 0; due = await payer.book.pending(128)) {
        const calls = [due.slice(0, 64), due.slice(64)].filter((c) => c.length > 0);
        const back = await Promise.all(calls.map((c) => payee.countersign(c.map((p) => p.signed))));
        await Promise.all(back.flat().map((r) => payer.book.completeReceipt(r)));
      }
    };
    try {
      return await settlingWhileDelivering('same, the payee ledger in a worker thread, 2 calls of 64 at once', { pairs, concurrency, payer }, settle, drain);
    } finally {
      await payee.close();
      await payer.ledger.close();
    }
  });
}

/** Reserve + settle pairs over the bus, or (`charge`) the folded path's one charge doing both in one write. */
function creditServiceOverNats(pairs: number, concurrency: number, charge = false): Promise<LedgerBenchRow> {
  return inTempDir(async (dir) => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const config = loadCreditConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir, SWARM_CREDIT_SYNC_WRITES: 'true', SWARM_GENESIS_GRANT: String(GRANT) });
    const svc = await startCreditService({ config, log: silentLogger(), nc, nodeId: NODE, clock: systemClock, stopwatch: systemStopwatch, scheduler: systemScheduler });
    try {
      const bus = createBusClient(nc, silentLogger());
      if (charge) {
        const notAfterMs = BigInt(Date.now() + 3_600_000);
        return await row('credit-svc over NATS, fsync on: one charge (reserve and settle in one write)', pairs, concurrency, async (i) => {
          await bus.request(CreditCharge, { escrowId: `e${i}`, account: NODE, amount: 10n, payouts: [{ payee: PAYEE, amount: 7n }], notAfterMs });
        });
      }
      return await row('credit-svc over NATS, fsync on', pairs, concurrency, async (i) => {
        await bus.request(CreditReserve, { escrowId: `e${i}`, account: NODE, amount: 10n, expiresAtMs: 0n, payees: [PAYEE] });
        await bus.request(CreditSettle, { escrowId: `e${i}`, payee: PAYEE, amount: 7n, payouts: [] });
      });
    } finally {
      await svc.stop();
      await nc.drain();
      await server.stop();
    }
  });
}

export async function benchLedger(opts: LedgerBenchOptions): Promise<LedgerBenchRow[]> {
  const { pairs, concurrency } = opts;
  return [
    await rawLevel(pairs, concurrency),
    await inProcessLedger(Math.ceil(pairs / 4), 1),
    await inProcessLedger(Math.ceil(pairs / 4), 1, 1),
    await inProcessLedger(pairs, concurrency, 1),
    await inProcessLedger(pairs, concurrency),
    await inProcessLedgersWithReceipts(pairs, concurrency),
    // A node with receipts in flight to several peers has more settlements open than 16.
    await inProcessLedgersWithReceipts(pairs, concurrency * 4),
    await settlementsWithOutbox(pairs, concurrency),
    await settlementsWithPayeeThread(pairs, concurrency),
    await creditServiceOverNats(pairs, concurrency),
    await creditServiceOverNats(pairs, concurrency, true),
  ];
}
