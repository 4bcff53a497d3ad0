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
import { createBusClient } from '@swarm/bus';
import { chainRules, decodeSignedReceipt } from '@swarm/chain';
import type { ChainSigner } from '@swarm/chain';
import { CreditReserve, CreditSettle } from '@swarm/contracts';
import { createChainBook } from '@swarm/credit';
import { openLedger } from '@swarm/credit-level';
import { loadCreditConfig, startCreditService } from '@swarm/credit-svc';
import { systemClock, systemScheduler, systemStopwatch } from '@swarm/determinism';
import { nodeIdOfKey } from '@swarm/records';
import { silentLogger } from '@swarm/telemetry';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { startNatsServer } from '@swarm/testing';
import { Level } from 'level';
import { connect } from 'nats';
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
/** Enough that no run ever runs out of credit (each pair escrows 10). */
const GRANT = 1_000_000_000n;
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

function freshSigner(): ChainSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  // The SPKI DER of an Ed25519 key ends with the raw 32-byte key (RFC 8410 §4).
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(12));
  return { publicKey, sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

/**
 * Settlements between two nodes' ledgers, each with its chain (docs/chain.md), fsync on, group
 * commit: the payer reserves and settles (signing the receipt into its outbox), the payee accepts
 * it (countersigns, appends RECEIPT_IN, credits itself), the payer appends it as RECEIPT_OUT. Four
 * synced batches and four signatures per settlement, in-process (no bus, no gateways).
 */
function inProcessLedgersWithReceipts(pairs: number, concurrency: number): Promise<LedgerBenchRow> {
  return inTempDir(async (dir) => {
    // Everything spendable: the bench measures throughput, not the genesis lock.
    const rules = chainRules({ genesisGrant: GRANT, starterAllowance: GRANT });
    const open = async (name: string) => {
      const signer = freshSigner();
      const id = nodeIdOfKey(signer.publicKey);
      const book = createChainBook({ signer, nodeAccount: id, rules, clock: systemClock });
      const ledger = await openLedger({ path: join(dir, name), sync: true, clock: systemClock, nodeAccount: id, genesisGrant: GRANT, hooks: book.hooks });
      await book.open(ledger);
      return { id, signer, book, ledger };
    };
    const payer = await open('payer');
    const payee = await open('payee');
    const hash = new Uint8Array(32).fill(7);
    const task = (escrowId: string) => ({ taskId: escrowId, taskHash: hash, resultHash: hash, shares: [], payeeKeys: [{ nodeId: payee.id, publicKey: payee.signer.publicKey }] });
    try {
      return await row('two ledgers with chains, fsync on: settle + receipt both ways', pairs, concurrency, async (i) => {
        const escrowId = `e${i}`;
        await payer.ledger.reserve({ escrowId, account: payer.id, amount: 10n, expiresAtMs: 0n, payees: [payee.id] });
        await payer.ledger.settle({ escrowId, payee: '', amount: 0n, payouts: [{ payee: payee.id, amount: 7n }], task: task(escrowId) });
        const owed = payer.ledger.side('outbox', `${escrowId}:${payee.id}`);
        if (!owed) throw new Error(`no receipt in the outbox for ${escrowId}`);
        const accepted = await payee.book.acceptReceipt({ receipt: decodeSignedReceipt(owed), fromNodeId: payer.id });
        await payer.book.completeReceipt(accepted.result);
      });
    } finally {
      await payer.ledger.close();
      await payee.ledger.close();
    }
  });
}

function creditServiceOverNats(pairs: number, concurrency: number): Promise<LedgerBenchRow> {
  return inTempDir(async (dir) => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const config = loadCreditConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir, SWARM_CREDIT_SYNC_WRITES: 'true', SWARM_GENESIS_GRANT: String(GRANT) });
    const svc = await startCreditService({ config, log: silentLogger(), nc, nodeId: NODE, clock: systemClock, stopwatch: systemStopwatch, scheduler: systemScheduler });
    try {
      const bus = createBusClient(nc, silentLogger());
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
    await creditServiceOverNats(pairs, concurrency),
  ];
}
