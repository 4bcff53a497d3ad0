/**
 * Two credit-svc processes' worth of ledgers, each on its own nats-server, paying each other by
 * receipts (docs/chain.md). A stand-in gateway on the payer's bus carries GatewayDeliverReceipts to
 * the payee's CreditAcceptReceipt, one receipt after the other (the real gateways are tested in apps/gateway-svc and the
 * multi-node e2e specs), and GatewayVoidReceipts to its CreditAcceptVoid; it can play a payee that
 * is down, and one that refuses a receipt for good (as its gateway does one without its ticket).
 * One on the payee's bus reads the payer's chain (GatewayFetchChain) unless the payer is behind NAT;
 * the payer's carries its offers of its chain (GatewayOfferChain) to the payee's CreditAcceptChainOffer.
 */
import type { BusClient, BusService } from '@swarm/bus';
import { createBusClient, startBusService, toWire } from '@swarm/bus';
import type { ChainHead } from '@swarm/chain';
import { appendPledge, chainRules, checkCrossChain, createGenesis, makeReceipt, openBlock, receiptSigningBytes, verifyChain, verifyForkProof, voidedReceipt } from '@swarm/chain';
import type { ReportForkRequest, SettleRequest, SignedReceipt } from '@swarm/contracts';
import {
  BlockKind,
  CreditAcceptChainOffer,
  CreditAcceptReceipt,
  CreditAcceptVoid,
  CreditAudit,
  CreditBalance,
  CreditChainBlocks,
  CreditHealth,
  CreditPaidVoids,
  CreditReinstateVoided,
  CreditReserve,
  CreditSettle,
  ErrorCode,
  GatewayDeliverReceipts,
  GatewayFetchChain,
  GatewayOfferChain,
  GatewayVoidReceipts,
  Receipt,
  RouterReportFork,
  SignedBlock,
  SwarmError,
} from '@swarm/contracts';
import { systemTime } from '@swarm/determinism';
import type { NodeIdentity } from '@swarm/identity';
import { loadOrCreateIdentity } from '@swarm/identity';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, swarmErrorOf, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCreditConfig } from './config';
import type { CreditService } from './service';
import { PAYER_VIEWS_FILE } from './payer-view-file';
import { CHAIN_STARTED_FILE, startCreditService } from './service';
import { serveSightings } from './test-fixtures/registry-stand-in';

const HASH = new Uint8Array(32).fill(3);
/** The payee's serve ticket: credit-svc passes it on; its content is for the payee's gateway to check. */
const TICKET = new Uint8Array(32).fill(5);

interface Side {
  server: NatsServerHandle;
  dir: TempDir;
  nc: NatsConnection;
  bus: BusClient;
  identity: NodeIdentity;
  svc?: CreditService;
}

describe('credit-svc - receipts between two nodes', () => {
  const sides: Side[] = [];
  let relay: BusService;
  let payerChains: BusService;
  let registry: BusService;
  let payeeDown = false;
  /** b cannot reach a's gateway: a's chain is not read, only offered. */
  let payerBehindNat = false;
  let delivered = 0;
  /** Task ids whose receipt the stand-in payee refuses for good. */
  const refusedForGood = new Set<string>();

  const start = async (s: Side, env: Record<string, string> = {}) => {
    const config = loadCreditConfig({
      SWARM_NATS_URL: s.server.url,
      SWARM_DATA_DIR: s.dir.path,
      SWARM_CREDIT_SYNC_WRITES: 'false',
      SWARM_GRACE_MS: '2000',
      SWARM_RECEIPT_PASS_MS: '100',
      ...env,
    });
    s.svc = await startCreditService({ config, log: silentLogger(), nc: s.nc, nodeId: s.identity.nodeId, signer: s.identity, ...systemTime });
  };

  beforeAll(async () => {
    for (let i = 0; i < 2; i += 1) {
      const [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-credit-receipts-')]);
      const nc = await connect({ servers: server.url });
      sides.push({ server, dir, nc, bus: createBusClient(nc, silentLogger()), identity: await loadOrCreateIdentity(dir.path) });
    }
    const [a, b] = sides;
    relay = await startBusService({ nc: a.nc, log: silentLogger(), name: 'gateway-svc', version: '0.0.0', description: 'gateway stand-in', nodeId: a.identity.nodeId });
    relay.serve(GatewayDeliverReceipts, async (req) => {
      if (payeeDown) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'payee unreachable (test)', true);
      expect(req.peerNodeId).toBe(b.identity.nodeId);
      const outcomes = [];
      for (const receipt of req.receipts) {
        delivered += 1;
        if (refusedForGood.has(Receipt.decode(receipt.receipt).taskId)) {
          outcomes.push({ receipt: undefined, error: toWire(new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, 'not the ticket this node gave (test)', false)) });
          continue;
        }
        try {
          const accepted = await b.bus.request(CreditAcceptReceipt, { receipt, fromNodeId: a.identity.nodeId });
          outcomes.push({ receipt: accepted.receipt, error: undefined });
        } catch (err) {
          outcomes.push({ receipt: undefined, error: toWire(err) });
        }
      }
      return { outcomes };
    });
    relay.serve(GatewayVoidReceipts, async (req) => {
      expect(req.peerNodeId).toBe(b.identity.nodeId);
      const outcomes = [];
      for (const signedVoid of req.voids) {
        try {
          // As b's gateway: whether the receipt carries the ticket it gave (the refused ones do not).
          const served = !refusedForGood.has(Receipt.decode(signedVoid.receipt).taskId);
          const answer = await b.bus.request(CreditAcceptVoid, { signedVoid, fromNodeId: a.identity.nodeId, served });
          outcomes.push({ signedVoid: answer.signedVoid, receipt: answer.receipt, error: undefined });
        } catch (err) {
          outcomes.push({ signedVoid: undefined, receipt: undefined, error: toWire(err) });
        }
      }
      return { outcomes };
    });
    relay.serve(GatewayOfferChain, async (req) => {
      if (payeeDown) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'payee unreachable (test)', true);
      expect(req.peerNodeId).toBe(b.identity.nodeId);
      return b.bus.request(CreditAcceptChainOffer, { offer: req.offer, fromNodeId: a.identity.nodeId });
    });
    // As b's gateway reads a payer's chain (GatewayFetchChain): a's, from a's own credit-svc.
    payerChains = await startBusService({ nc: b.nc, log: silentLogger(), name: 'gateway-svc', version: '0.0.0', description: 'gateway stand-in', nodeId: b.identity.nodeId });
    payerChains.serve(GatewayFetchChain, async (req) => {
      if (req.peerNodeId !== a.identity.nodeId || payerBehindNat) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no such peer (test)', true);
      return a.bus.request(CreditChainBlocks, { fromSeq: req.fromSeq, limit: req.limit });
    });
    // b, the payee, compares other payees' sightings of a's chain before it countersigns: none here.
    registry = await serveSightings(b.nc, b.identity.nodeId, new Map());
    await Promise.all(sides.map((s) => start(s)));
  });

  afterAll(async () => {
    for (const s of sides) await s.svc?.stop();
    await relay?.stop(1_000);
    await payerChains?.stop(1_000);
    await registry?.stop(1_000);
    for (const s of sides) {
      await s.nc.drain();
      await Promise.all([s.server.stop(), s.dir.remove()]);
    }
  });

  const settlePaying = (escrowId: string, amount: bigint): SettleRequest => {
    const payee = sides[1].identity;
    return {
      escrowId,
      payee: '',
      amount: 0n,
      payouts: [{ payee: payee.nodeId, amount }],
      task: { taskId: escrowId, taskHash: HASH, resultHash: HASH, shares: [], payeeKeys: [{ nodeId: payee.nodeId, publicKey: payee.publicKey, serveTicket: TICKET }] },
    };
  };
  const pay = async (escrowId: string, amount: bigint) => {
    const [a, b] = sides;
    await a.bus.request(CreditReserve, { escrowId, account: a.identity.nodeId, amount, expiresAtMs: 0n, payees: [a.identity.nodeId, b.identity.nodeId] });
    await a.bus.request(CreditSettle, settlePaying(escrowId, amount));
  };
  const headSeq = async (s: Side) => (await s.bus.request(CreditChainBlocks, { fromSeq: 1n, limit: 1 })).headSeq;
  /** A settled receipt from a to b, pledged in a's chain and held back from b (its payee down): as a's outbox would send it. */
  const pledgedNotSent = async (taskId: string, amount: bigint): Promise<SignedReceipt> => {
    const [a] = sides;
    payeeDown = true;
    await pay(taskId, amount);
    const [block] = (await a.bus.request(CreditChainBlocks, { fromSeq: await headSeq(a), limit: 1 })).blocks;
    const { kind, receipt } = openBlock(block).block;
    if (kind !== BlockKind.BLOCK_KIND_PLEDGE || !receipt) throw new Error(`a's last block is no PLEDGE of ${taskId}`);
    return receipt;
  };
  const chainOf = async (s: Side) => {
    const blocks: Uint8Array[] = [];
    for (let from = 1n; ;) {
      const page = await s.bus.request(CreditChainBlocks, { fromSeq: from, limit: 0 });
      blocks.push(...page.blocks);
      from += BigInt(page.blocks.length);
      if (from > page.headSeq || page.blocks.length === 0) return verifyChain(blocks, chainRules(), { expectedNodeId: page.nodeId });
    }
  };

  it('delivers a settle’s receipt by itself: PLEDGE then RECEIPT_OUT in the payer’s chain, RECEIPT_IN and the credit in the payee’s', async () => {
    const [a, b] = sides;
    await pay('task-1', 30n);
    await waitFor(async () => (await headSeq(a)) === 3n);
    expect(await headSeq(b)).toBe(2n);
    expect((await chainOf(a)).entries.map((e) => e.kind)).toEqual([BlockKind.BLOCK_KIND_GENESIS, BlockKind.BLOCK_KIND_PLEDGE, BlockKind.BLOCK_KIND_RECEIPT_OUT]);
    expect((await b.bus.request(CreditBalance, { account: '' })).available).toBe(1_030n);
    const report = checkCrossChain([await chainOf(a), await chainOf(b)]);
    expect(report).toMatchObject({ chains: 2, receipts: 1, conserved: true, total: 2_000n });
  });

  it('keeps a receipt whose payee is down and delivers it, once, when the payee is back, across a restart of the payer', async () => {
    const [a, b] = sides;
    payeeDown = true;
    await pay('task-2', 20n);
    const before = delivered;
    // Retried in the background: nothing moves while the payee is unreachable.
    await new Promise((r) => setTimeout(r, 600));
    // Pledged in a's chain at the settle, not paid.
    expect(await headSeq(a)).toBe(4n);
    expect((await chainOf(a)).head.balances).toMatchObject({ pledged: 20n, paid: 30n });
    // Operators see it: pledged and failing, in credit-svc's health.
    const health = await waitFor(async () => {
      const d = (await a.bus.request(CreditHealth, {})).details;
      return d['receiptsFailing'] === '1' ? d : undefined;
    });
    expect(health).toMatchObject({ chainPledged: '20' });
    await a.svc?.stop();
    await start(a);
    payeeDown = false;
    await waitFor(async () => (await headSeq(a)) === 5n, { timeoutMs: 10_000 });
    expect(delivered).toBe(before + 1);
    expect((await b.bus.request(CreditBalance, { account: '' })).available).toBe(1_050n);
    const report = checkCrossChain([await chainOf(a), await chainOf(b)]);
    expect(report).toMatchObject({ receipts: 2, conserved: true, total: 2_000n });
  });

  it('answers a retried delivery with the same countersigned receipt and credits nothing twice', async () => {
    const [a, b] = sides;
    const [outBlock] = (await a.bus.request(CreditChainBlocks, { fromSeq: 3n, limit: 1 })).blocks;
    const countersigned = openBlock(outBlock).block.receipt;
    if (!countersigned) throw new Error('block 3 of the payer holds no receipt');
    const balance = (await b.bus.request(CreditBalance, { account: '' })).available;
    const seq = await headSeq(b);
    // As the payer would send it again after a lost reply: signed by the payer only.
    const again = await b.bus.request(CreditAcceptReceipt, { receipt: { ...countersigned, payeeSignature: new Uint8Array(0) }, fromNodeId: a.identity.nodeId });
    expect(Buffer.from(again.receipt?.payeeSignature ?? [])).toEqual(Buffer.from(countersigned.payeeSignature));
    // Said so: the gateway then takes nothing more off what the payer owes.
    expect(again.alreadyHeld).toBe(true);
    expect(await headSeq(b)).toBe(seq);
    expect((await b.bus.request(CreditBalance, { account: '' })).available).toBe(balance);
    // Sent by a node other than its payer: refused.
    const err = await b.bus.request(CreditAcceptReceipt, { receipt: countersigned, fromNodeId: b.identity.nodeId }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED });
  });

  it('refuses forged, unsigned, misaddressed, zero, future-dated and conflicting receipts, changing nothing', async () => {
    const [a, b] = sides;
    const payer = a.identity;
    const good = await pledgedNotSent('bad-1', 5n);
    const fields = { payeePublicKey: b.identity.publicKey, amount: 5n, taskId: 'bad-1', taskHash: HASH, resultHash: HASH, atMs: Date.now(), serveTicket: TICKET };
    const resign = (edit: (r: Receipt) => void): SignedReceipt => {
      const r = Receipt.decode(good.receipt);
      edit(r);
      const bytes = Receipt.encode(r).finish();
      return { receipt: bytes, payerSignature: payer.sign(receiptSigningBytes(bytes)), payeeSignature: new Uint8Array(0) };
    };
    // Already in B's chain (task-1), sent again with other contents under the same id.
    const conflicting = resign((r) => {
      r.receiptId = `task-1:${a.identity.nodeId}:${b.identity.nodeId}`;
      r.taskId = 'task-1';
      r.amount = 29n;
    });
    const bad: Array<[string, SignedReceipt]> = [
      ['forged payer signature', { ...good, payerSignature: good.payerSignature.map((x, i) => (i === 0 ? x ^ 1 : x)) }],
      ['unsigned', { ...good, payerSignature: new Uint8Array(0) }],
      ['for another payee', makeReceipt({ ...fields, payeePublicKey: a.identity.publicKey }, b.identity)],
      ['zero amount', resign((r) => (r.amount = 0n))],
      ['dated an hour ahead', makeReceipt({ ...fields, taskId: 'bad-2', atMs: Date.now() + 3_600_000 }, payer)],
      ['bytes besides the receipt', { ...good, receipt: Uint8Array.from([...good.receipt, 0x08, 0x01]) }],
      ['conflicting with one in the chain', conflicting],
    ];
    const seq = await headSeq(b);
    const balance = (await b.bus.request(CreditBalance, { account: '' })).available;
    for (const [what, receipt] of bad) {
      const err = await b.bus.request(CreditAcceptReceipt, { receipt, fromNodeId: receipt === bad[2][1] ? b.identity.nodeId : a.identity.nodeId }).catch((e: unknown) => e);
      expect({ what, refused: err instanceof SwarmError }).toEqual({ what, refused: true });
      // A refusal names what is wrong with the receipt; it is never the ledger's fault.
      expect({ what, code: ErrorCode[(err as SwarmError).code] }).not.toEqual({ what, code: 'ERROR_CODE_INTERNAL' });
    }
    expect(await headSeq(b)).toBe(seq);
    expect((await b.bus.request(CreditBalance, { account: '' })).available).toBe(balance);
    // The good one still goes through afterwards.
    const ok = await b.bus.request(CreditAcceptReceipt, { receipt: good, fromNodeId: a.identity.nodeId });
    expect(ok.receipt?.payeeSignature).toHaveLength(64);
    expect(await headSeq(b)).toBe(seq + 1n);
    // b is reachable again: a's outbox delivers it, b answers it holds it, a completes its pledge.
    payeeDown = false;
    await waitFor(async () => ((await a.bus.request(CreditHealth, {})).details['chainPledged'] === '0' ? true : undefined), { timeoutMs: 10_000 });
    expect((await chainOf(a)).head.balances.pledged).toBe(0n);
  });
  it('voids a receipt its payee refuses for good (no ticket of its own): the pledge is released (a RELEASE in the payer’s chain), the credit is back, the payee’s chain unchanged', async () => {
    const [a, b] = sides;
    const [aSeq, bSeq] = [await headSeq(a), await headSeq(b)];
    const bHeldAtA = (await a.bus.request(CreditBalance, { account: b.identity.nodeId })).available;
    const aBalance = (await a.bus.request(CreditBalance, { account: '' })).available;
    const before = checkCrossChain([await chainOf(a), await chainOf(b)]);
    refusedForGood.add('task-void');
    await pay('task-void', 25n);
    await waitFor(async () => {
      const d = (await a.bus.request(CreditHealth, {})).details;
      return d['chainPledged'] === '0' && d['receiptsFailing'] === '0' ? d : undefined;
    });
    // Operators see it: one receipt voided, its 25 back.
    expect(await a.bus.request(CreditHealth, {})).toMatchObject({ details: { receiptsVoided: '1', creditVoided: '25' } });
    // Kept for audits of b's chain (swarm ledger --peer), countersigned by b; a page past it is empty.
    const kept = await a.bus.request(CreditPaidVoids, { afterReceiptId: '', limit: 0 });
    expect(kept.voids.map((v) => Receipt.decode(v.receipt).taskId)).toEqual(['task-void']);
    expect(kept.voids[0].payeeSignature).toHaveLength(64);
    const idVoided = Receipt.decode(kept.voids[0].receipt).receiptId;
    expect(await a.bus.request(CreditPaidVoids, { afterReceiptId: idVoided, limit: 0 })).toEqual({ voids: [], nextAfterReceiptId: '' });
    const badAfter = await a.bus.request(CreditPaidVoids, { afterReceiptId: 'x'.repeat(300), limit: 0 }).catch((e: unknown) => e);
    expect(badAfter).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect([await headSeq(a), await headSeq(b)]).toEqual([aSeq + 2n, bSeq]);
    const chainA = await chainOf(a);
    expect(chainA.entries.slice(-2).map((e) => e.kind)).toEqual([BlockKind.BLOCK_KIND_PLEDGE, BlockKind.BLOCK_KIND_RELEASE]);
    expect(chainA.head.balances.pledged).toBe(0n);
    // In the payer's ledger the 25 paid to b came back to the node: a VOID entry, and the audit holds.
    expect((await a.bus.request(CreditBalance, { account: b.identity.nodeId })).available).toBe(bHeldAtA);
    expect((await a.bus.request(CreditBalance, { account: '' })).available).toBe(aBalance);
    expect(await a.bus.request(CreditAudit, {})).toMatchObject({ ok: true, problems: [] });
    const after = checkCrossChain([await chainOf(a), await chainOf(b)]);
    expect(after).toMatchObject({ receipts: before.receipts, total: before.total });
  });

  it('pays a voided receipt after all when its payee kept it anyway (a void breach proof): both chains hold it, the sum is back, once', async () => {
    const [a, b] = sides;
    const before = checkCrossChain([await chainOf(a), await chainOf(b)]);
    refusedForGood.add('task-broken');
    await pay('task-broken', 15n);
    const voided = await waitFor(async () => {
      const kept = await a.bus.request(CreditPaidVoids, { afterReceiptId: '', limit: 0 });
      return kept.voids.find((v) => Receipt.decode(v.receipt).taskId === 'task-broken');
    });
    // b countersigned the void (its gateway found no ticket of its own), then takes the receipt
    // anyway when it is sent by hand: it broke its word, and 15 more are in the chains than issued.
    // Its own check refuses a receipt whose pledge was released: a payee that breaks its word runs without it.
    const honest = await swarmErrorOf(b.bus.request(CreditAcceptReceipt, { receipt: voidedReceipt(voided), fromNodeId: a.identity.nodeId }));
    expect(honest).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, message: expect.stringMatching(/not-pledged/) });
    await b.svc?.stop();
    await start(b, { SWARM_CREDIT_CHECK_PAYERS: 'false' });
    await b.bus.request(CreditAcceptReceipt, { receipt: voidedReceipt(voided), fromNodeId: a.identity.nodeId });
    await b.svc?.stop();
    await start(b);
    const broken = checkCrossChain([await chainOf(a), await chainOf(b)]);
    expect(broken.total).toBe(before.total + 15n);
    const bBlocks = (await b.bus.request(CreditChainBlocks, { fromSeq: await headSeq(b), limit: 1 })).blocks;
    const proof = { signedVoid: voided, block: SignedBlock.decode(bBlocks[0]) };
    const aSeq = await headSeq(a);

    // A proof that proves nothing (b's genesis for the block) changes nothing.
    const genesis = SignedBlock.decode((await b.bus.request(CreditChainBlocks, { fromSeq: 1n, limit: 1 })).blocks[0]);
    expect(await swarmErrorOf(a.bus.request(CreditReinstateVoided, { proof: { ...proof, block: genesis } }))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN });
    expect(await swarmErrorOf(a.bus.request(CreditReinstateVoided, {}))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(await headSeq(a)).toBe(aSeq);

    const done = await a.bus.request(CreditReinstateVoided, { proof });
    expect(done).toEqual({ receiptId: Receipt.decode(voided.receipt).receiptId, amount: 15n, alreadyReinstated: false });
    expect(await headSeq(a)).toBe(aSeq + 1n);
    const after = checkCrossChain([await chainOf(a), await chainOf(b)]);
    expect(after).toMatchObject({ receipts: broken.receipts, total: before.total, problemCount: before.problemCount });
    expect(await a.bus.request(CreditAudit, {})).toMatchObject({ ok: true, problems: [] });
    expect(await a.bus.request(CreditReinstateVoided, { proof })).toMatchObject({ alreadyReinstated: true });
    expect(await headSeq(a)).toBe(aSeq + 1n);
  });

  it("countersigns only a receipt its payer's chain pledges; one it does not is refused for good, one whose chain cannot be read retryably; nothing changed", async () => {
    const [a, b] = sides;
    const byHand = (payer: NodeIdentity, taskId: string, amount: bigint) =>
      makeReceipt({ payeePublicKey: b.identity.publicKey, amount, taskId, taskHash: HASH, resultHash: HASH, atMs: Date.now(), serveTicket: TICKET }, payer);
    const seq = await headSeq(b);
    const balance = (await b.bus.request(CreditBalance, { account: '' })).available;
    const unchanged = async () => {
      expect(await headSeq(b)).toBe(seq);
      expect((await b.bus.request(CreditBalance, { account: '' })).available).toBe(balance);
    };

    // Signed by a, within what a's chain holds, but never pledged there: refused for good (a voids it), nothing taken.
    const unpledged = await swarmErrorOf(b.bus.request(CreditAcceptReceipt, { receipt: byHand(a.identity, 'unpledged-1', 1n), fromNodeId: a.identity.nodeId }));
    expect(unpledged).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_RECEIPT,
      retryable: false,
      message: expect.stringMatching(/not-pledged.*holds no PLEDGE of receipt unpledged-1:/),
    });
    await unchanged();
    // A payer whose chain cannot be read (b's gateway finds no such peer): refused, retryably.
    const strangerDir = await tempDir('swarm-credit-stranger-');
    try {
      const stranger = await loadOrCreateIdentity(strangerDir.path);
      const unread = await swarmErrorOf(b.bus.request(CreditAcceptReceipt, { receipt: byHand(stranger, 'unpledged-2', 1n), fromNodeId: stranger.nodeId }));
      expect(unread).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true, message: expect.stringMatching(/could not be read/) });
    } finally {
      await strangerDir.remove();
    }
    await unchanged();

    // Pledged: taken (b reads a's chain on to the pledge), and completed by a's outbox once b is reachable.
    const pledged = await pledgedNotSent('pledged-1', 3n);
    await b.bus.request(CreditAcceptReceipt, { receipt: pledged, fromNodeId: a.identity.nodeId });
    expect(await headSeq(b)).toBe(seq + 1n);
    payeeDown = false;
    await waitFor(async () => ((await a.bus.request(CreditHealth, {})).details['chainPledged'] === '0' ? true : undefined), { timeoutMs: 10_000 });
    const report = checkCrossChain([await chainOf(a), await chainOf(b)]);
    expect(report.problems).toEqual([]);
    const health = (await b.bus.request(CreditHealth, {})).details;
    expect(Number(health['payerChainReads'])).toBeGreaterThan(0);
    expect(health).toMatchObject({ payerChainsRefused: '0', payerChainReadsFailed: '1' });
  });

  it('takes the receipts of a payer whose chain it cannot read (behind NAT) once the payer has offered it the blocks it lacks', async () => {
    const [a, b] = sides;
    payerBehindNat = true;
    try {
      const before = await b.bus.request(CreditHealth, {});
      const [seqA, seqB] = [await headSeq(a), await headSeq(b)];
      await pay('nat-1', 4n);
      await pay('nat-2', 5n);
      // Both countersigned: PLEDGE and RECEIPT_OUT each in a's chain, RECEIPT_IN each in b's.
      await waitFor(async () => ((await a.bus.request(CreditHealth, {})).details['chainPledged'] === '0' ? true : undefined), { timeoutMs: 15_000 });
      expect(await headSeq(a)).toBe(seqA + 4n);
      expect(await headSeq(b)).toBe(seqB + 2n);
      const report = checkCrossChain([await chainOf(a), await chainOf(b)]);
      expect(report.problems).toEqual([]);
      const health = (await b.bus.request(CreditHealth, {})).details;
      // The pledges came offered: its reads of a's gateway failed.
      expect(Number(health['payerChainBlocksOffered'])).toBeGreaterThanOrEqual(2);
      expect(Number(health['payerChainReadsFailed'])).toBeGreaterThan(Number(before.details['payerChainReadsFailed']));
      expect(health['payerChainsRefused']).toBe('0');
    } finally {
      payerBehindNat = false;
    }
  });

  it("reads a payer's chain on from where it audited it before a restart, not from genesis", async () => {
    const [a, b] = sides;
    const seqA = await headSeq(a);
    await b.svc?.stop();
    expect(existsSync(join(b.dir.path, 'credit-ledger', PAYER_VIEWS_FILE))).toBe(true);
    await start(b);
    expect((await b.bus.request(CreditHealth, {})).details).toMatchObject({ payerChainsRestored: '1', payerChainBlocksRead: '0' });
    await pay('after-restart', 3n);
    await waitFor(async () => ((await a.bus.request(CreditHealth, {})).details['chainPledged'] === '0' ? true : undefined), { timeoutMs: 15_000 });
    expect(await headSeq(a)).toBe(seqA + 2n);
    // The new PLEDGE and the few blocks a's chain grew by after b's last read (the last RECEIPT_OUTs): not the whole chain again.
    const read = Number((await b.bus.request(CreditHealth, {})).details['payerChainBlocksRead']);
    expect(read).toBeGreaterThanOrEqual(1);
    expect(read).toBeLessThanOrEqual(4);
    expect(Number(seqA)).toBeGreaterThan(8);
    expect(checkCrossChain([await chainOf(a), await chainOf(b)]).problems).toEqual([]);
  });
});

describe('credit-svc - a chain is started once per node key', () => {
  it('refuses a ledger that has lost the chain its key started, rather than sign a second genesis', async () => {
    const [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-credit-genesis-')]);
    const nc = await connect({ servers: server.url });
    try {
      const identity = await loadOrCreateIdentity(dir.path);
      const config = loadCreditConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_CREDIT_SYNC_WRITES: 'false', SWARM_GRACE_MS: '1000' });
      const start = () => startCreditService({ config, log: silentLogger(), nc, nodeId: identity.nodeId, signer: identity, ...systemTime });
      await (await start()).stop();
      expect(existsSync(join(dir.path, CHAIN_STARTED_FILE))).toBe(true);
      // Restarted with its ledger: the same chain goes on.
      await (await start()).stop();
      // The ledger deleted (or restored from before the chain began), the key kept: refused.
      await rm(config.ledgerPath, { recursive: true, force: true });
      await expect(start()).rejects.toThrow(/started its chain before/);
      // With the mark in a directory of its own (docker-compose.yml's volume): the same.
      const markerDir = join(dir.path, 'credit-state');
      await mkdir(markerDir);
      const apart = loadCreditConfig({
        SWARM_NATS_URL: server.url,
        SWARM_DATA_DIR: dir.path,
        SWARM_CREDIT_SYNC_WRITES: 'false',
        SWARM_GRACE_MS: '1000',
        SWARM_CREDIT_MARKER_DIR: markerDir,
      });
      await rm(join(dir.path, CHAIN_STARTED_FILE));
      const startApart = () => startCreditService({ config: apart, log: silentLogger(), nc, nodeId: identity.nodeId, signer: identity, ...systemTime });
      await (await startApart()).stop();
      expect({ apart: existsSync(join(markerDir, CHAIN_STARTED_FILE)), inDataDir: existsSync(join(dir.path, CHAIN_STARTED_FILE)) }).toEqual({ apart: true, inDataDir: false });
      await rm(apart.ledgerPath, { recursive: true, force: true });
      await expect(startApart()).rejects.toThrow(/started its chain before/);
    } finally {
      await nc.drain();
      await Promise.all([server.stop(), dir.remove()]);
    }
  });
});

describe('credit-svc - a payer that forks its chain', () => {
  it("proves the fork to the node's router when the payer's chain no longer goes on from the head it audited", async () => {
    const [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-credit-fork-')]);
    const nc = await connect({ servers: server.url });
    const standIns: BusService[] = [];
    let svc: CreditService | undefined;
    try {
      const [me, payer, other] = await Promise.all([loadOrCreateIdentity(dir.path), loadOrCreateIdentity(join(dir.path, 'payer')), loadOrCreateIdentity(join(dir.path, 'other'))]);
      const rules = chainRules();
      const atMs = Date.now() - 60_000;
      const genesis = createGenesis(payer, rules, atMs);
      const ids = new Set<string>();
      const receiptTo = (taskId: string, amount: bigint) =>
        makeReceipt({ payeePublicKey: me.publicKey, amount, taskId, taskHash: HASH, resultHash: HASH, atMs: atMs + 1_000, serveTicket: TICKET }, payer);
      const pledgeOn = (head: ChainHead, signed: SignedReceipt) => appendPledge(head, signed, payer, rules, { atMs: atMs + 1_000, hasReceipt: (x) => ids.has(x) });
      // What the payer's gateway serves: its chain, then another history from the same genesis.
      const first = receiptTo('fork-1', 2n);
      const honest = pledgeOn(genesis.head, first);
      let served = [...genesis.blocks, ...honest.blocks];
      const gatewayStandIn = await startBusService({ nc, log: silentLogger(), name: 'gateway-svc', version: '0.0.0', description: 'gateway stand-in', nodeId: me.nodeId });
      standIns.push(gatewayStandIn);
      gatewayStandIn.serve(GatewayFetchChain, (req) => {
        const from = Number(req.fromSeq) - 1;
        return { blocks: served.slice(from, from + req.limit), headSeq: BigInt(served.length), nodeId: payer.nodeId };
      });
      const reported: ReportForkRequest[] = [];
      const routerStandIn = await startBusService({ nc, log: silentLogger(), name: 'router-svc', version: '0.0.0', description: 'router stand-in', nodeId: me.nodeId });
      standIns.push(routerStandIn);
      standIns.push(await serveSightings(nc, me.nodeId, new Map()));
      routerStandIn.serve(RouterReportFork, (req) => {
        reported.push(req);
        return { nodeId: payer.nodeId, seq: 2n, alreadyKnown: false };
      });
      const config = loadCreditConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_CREDIT_SYNC_WRITES: 'false', SWARM_GRACE_MS: '1000' });
      svc = await startCreditService({ config, log: silentLogger(), nc, nodeId: me.nodeId, signer: me, ...systemTime });
      const bus = createBusClient(nc, silentLogger());
      // Pledged in the chain as read: countersigned.
      await bus.request(CreditAcceptReceipt, { receipt: first, fromNodeId: payer.nodeId });
      // The payer rewrites block 2 (a pledge to someone else) and pledges on from there.
      const rewritten = pledgeOn(
        genesis.head,
        makeReceipt({ payeePublicKey: other.publicKey, amount: 2n, taskId: 'elsewhere', taskHash: HASH, resultHash: HASH, atMs: atMs + 1_000, serveTicket: TICKET }, payer),
      );
      const second = receiptTo('fork-2', 1n);
      const after = pledgeOn(rewritten.head, second);
      served = [...genesis.blocks, ...rewritten.blocks, ...after.blocks];
      const err = await swarmErrorOf(bus.request(CreditAcceptReceipt, { receipt: second, fromNodeId: payer.nodeId }));
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, message: expect.stringMatching(/forked/) });
      await waitFor(() => reported.length > 0 || undefined);
      expect(reported.map((r) => (r.proof ? verifyForkProof(r.proof) : undefined))).toEqual([{ nodeId: payer.nodeId, seq: 2n }]);
      expect((await bus.request(CreditHealth, {})).details).toMatchObject({ payerChainForks: '1' });
    } finally {
      await svc?.stop();
      for (const s of standIns) await s.stop(1_000);
      await nc.drain();
      await Promise.all([server.stop(), dir.remove()]);
    }
  });
});
