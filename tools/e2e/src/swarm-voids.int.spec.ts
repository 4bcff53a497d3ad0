/**
 * Voids between real nodes (processes, as `swarm up` runs them; docs/chain.md "Voids"). Node A pays
 * node B for a real task, by a receipt B countersigns. Then A's ledger is asked (as its router-svc
 * would) to pay B for a task with a serve ticket B never gave, as a receipt from before tickets
 * would carry: B's gateway refuses that receipt for good, A's credit-svc asks B to void it, B's
 * credit-svc countersigns the void (it keeps nothing: it would never countersign that receipt), and
 * A releases the pledge (a RELEASE block) and takes the credit back to its own account. Checked from
 * outside through each node's bus: both chains verify, the real receipt is in both, the voided one
 * only pledged and released in A's, the credit is conserved and both ledgers audit clean. Then B
 * breaks its word (restarted without its check of payers' pledges, it takes the voided receipt into
 * its chain anyway): A's credit-svc, watching the chains of the payees that
 * countersigned its voids, catches it with no operator asking, A's router distrusts B, and A pays
 * the receipt after all, so the sum over both chains is back; A's `swarm ledger --peer B` then
 * reports the breach, and pays nothing twice.
 */
import { busConnectOptions, createBusClient } from '@swarm/bus';
import type { BusClient } from '@swarm/bus';
import type { ChainAudit } from '@swarm/chain';
import { chainRules, checkCrossChain, verifyChain, voidedReceipt } from '@swarm/chain';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import {
  CreditAcceptReceipt,
  CreditAudit,
  CreditBalance,
  CreditChainBlocks,
  CreditHealth,
  CreditPaidVoids,
  CreditReserve,
  CreditSettle,
  fromTensor,
  isSwarmError,
} from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { busKeyFile, loadOrCreateIdentity } from '@swarm/identity';
import type { RunningNode } from '@swarm/node';
import { startNode } from '@swarm/node';
import { demoInputs, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { runCli } from './run-cli';

jest.setTimeout(240_000);

// The watch over payees' voids reads on every half second (default: 5 minutes).
const ENV = { SWARM_EXECUTOR_THREADS: '1', SWARM_LOG_LEVEL: 'warn', SWARM_RECEIPT_PASS_MS: '200', SWARM_VOID_WATCH_MS: '500' };
/** Bounds on a busy machine; they are not speeds. */
const DISCOVERY_MS = 90_000;
const SETTLE_MS = 60_000;

describe('swarm - a receipt its payee refuses for good is voided between real nodes', () => {
  const homes: TempDir[] = [];
  const running: RunningNode[] = [];
  const connections: NatsConnection[] = [];
  let client: SwarmClient | undefined;

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    for (const c of connections) await c.close().catch(() => undefined);
    await Promise.all(running.map((n) => n.stop()));
    await Promise.all(homes.map((h) => h.remove()));
  }, 60_000);

  const busAs = async (node: RunningNode, role: 'observer' | 'router' | 'gateway'): Promise<BusClient> => {
    const nc = await connect({ servers: node.natsUrl, ...(await busConnectOptions(role, busKeyFile(node.home, role))) });
    connections.push(nc);
    return createBusClient(nc, silentLogger());
  };
  const chainOf = async (bus: BusClient, nodeId: string): Promise<ChainAudit> => {
    const blocks: Uint8Array[] = [];
    for (let from = 1n; ;) {
      const page = await bus.request(CreditChainBlocks, { fromSeq: from, limit: 0 });
      blocks.push(...page.blocks);
      from += BigInt(page.blocks.length);
      if (from > page.headSeq || page.blocks.length === 0) return verifyChain(blocks, chainRules(), { expectedNodeId: nodeId, nowMs: Date.now() });
    }
  };

  it("releases the pledge and returns the credit, B's chain unchanged and the real receipt in both", async () => {
    homes.push(await tempDir('swarm-voids-a-'), await tempDir('swarm-voids-b-'));
    const a = await startNode({ home: homes[0].path, skills: ['vecadd'], env: ENV });
    running.push(a);
    const b = await startNode({ home: homes[1].path, seeds: [a.peerAddress], skills: ['mlp'], env: ENV });
    running.push(b);
    client = await connectSwarm(a.natsUrl, { nkeyFile: a.clientKeyFile });
    const inputs = demoInputs('mlp', 16, seededRandom(7));
    // A real task A cannot run itself: B serves it and is paid by a receipt.
    const paid = await waitFor(
      () =>
        (client as SwarmClient).submit({ skill: 'mlp', inputs, budget: priceOf('mlp', inputs.map(fromTensor)), timeoutMs: 5_000 }).then(
          (r) => r,
          (err: unknown) => (isSwarmError(err) ? undefined : Promise.reject(err)),
        ),
      { timeoutMs: DISCOVERY_MS, intervalMs: 500, what: 'node A runs mlp on node B' },
    );
    expect(paid.cost).toBeGreaterThan(0n);
    const [observeA, routerA] = await Promise.all([busAs(a, 'observer'), busAs(a, 'router')]);
    let observeB = await busAs(b, 'observer');
    const headOf = async (bus: BusClient) => (await bus.request(CreditChainBlocks, { fromSeq: 1n, limit: 1 })).headSeq;
    // The real receipt is in both chains: PLEDGE and RECEIPT_OUT at A, RECEIPT_IN at B.
    await waitFor(async () => (await headOf(observeA)) === 3n && (await headOf(observeB)) === 2n, {
      timeoutMs: SETTLE_MS,
      intervalMs: 200,
      what: 'the real receipt in both chains',
    });
    const bHeldAtA = (await observeA.request(CreditBalance, { account: b.nodeId })).available;
    const aNode = (await observeA.request(CreditBalance, { account: '' })).available;

    // A settle paying B with a ticket B never gave.
    const bKey = (await loadOrCreateIdentity(b.home)).publicKey;
    const hash = new Uint8Array(32).fill(1);
    await routerA.request(CreditReserve, { escrowId: 'no-ticket-1', account: a.nodeId, amount: 30n, expiresAtMs: 0n, payees: [b.nodeId] });
    await routerA.request(CreditSettle, {
      escrowId: 'no-ticket-1',
      payee: '',
      amount: 0n,
      payouts: [{ payee: b.nodeId, amount: 20n }],
      task: { taskId: 'no-ticket-1', taskHash: hash, resultHash: hash, shares: [], payeeKeys: [{ nodeId: b.nodeId, publicKey: bKey, serveTicket: new Uint8Array(32).fill(9) }] },
    });
    // Pledged until B's void comes back (which may already have happened on a fast machine).
    expect(['20', '0']).toContain((await observeA.request(CreditHealth, {})).details['chainPledged']);
    await waitFor(
      async () => {
        const d = (await observeA.request(CreditHealth, {})).details;
        return d['chainPledged'] === '0' && d['receiptsFailing'] === '0';
      },
      { timeoutMs: SETTLE_MS, intervalMs: 200, what: "A's pledge to the refused receipt released by B's void" },
    );
    // The 20 paid to B's account in A's ledger came back to A's own account; both ledgers audit clean.
    expect((await observeA.request(CreditBalance, { account: b.nodeId })).available).toBe(bHeldAtA);
    expect((await observeA.request(CreditBalance, { account: '' })).available).toBe(aNode);
    expect(await observeA.request(CreditAudit, {})).toMatchObject({ ok: true, problems: [] });
    expect((await observeA.request(CreditHealth, {})).details).toMatchObject({ receiptsVoided: '1', creditVoided: '20' });
    expect(await observeB.request(CreditAudit, {})).toMatchObject({ ok: true, problems: [] });
    // A's chain pledged and released it; B's did not change; the real receipt is in both, once; the credit is conserved.
    expect([await headOf(observeA), await headOf(observeB)]).toEqual([5n, 2n]);
    const report = checkCrossChain([await chainOf(observeA, a.nodeId), await chainOf(observeB, b.nodeId)]);
    expect(report).toMatchObject({ chains: 2, receipts: 1, conserved: true, total: 2_000n, problems: [] });
    // A's operator audits B's chain against A's voids: B kept its word (by the first 16 characters of its id).
    const audit = await runCli(['ledger', '--data-dir', a.home, '--peer', b.nodeId.slice(0, 16), '--json']);
    expect({ code: audit.code, stderr: audit.stderr.trim() }).toEqual({ code: 0, stderr: `note: --peer ${b.nodeId.slice(0, 16)} is ${b.nodeId}` });
    expect(JSON.parse(audit.stdout)).toMatchObject({ nodeId: b.nodeId, peer: true, ok: true, voidBreaches: [] });

    // Now B breaks its word: the voided receipt reaches B's credit-svc by hand, past B's gateway (as
    // a node that skips its own ticket check would), and B appends it. 20 more in the chains than issued.
    // B's own check of payers' pledges refuses it (A released that pledge): a B that breaks its word runs without it.
    const [voided] = (await observeA.request(CreditPaidVoids, { afterReceiptId: '', limit: 0 })).voids;
    const honest = await busAs(b, 'gateway');
    const refused = await honest.request(CreditAcceptReceipt, { receipt: voidedReceipt(voided), fromNodeId: a.nodeId }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ message: expect.stringMatching(/not-pledged/) });
    await running[1].stop();
    const bAgain = await startNode({ home: homes[1].path, seeds: [a.peerAddress], skills: ['mlp'], env: { ...ENV, SWARM_CREDIT_CHECK_PAYERS: 'false' } });
    running[1] = bAgain;
    observeB = await busAs(bAgain, 'observer');
    const gatewayB = await busAs(bAgain, 'gateway');
    // A's chain as it stands before the breach: its watch may pay the receipt moments after B
    // appends it (a loaded machine once read A's chain only after that), so the broken sum is B's
    // chain now beside A's then.
    const aBefore = await chainOf(observeA, a.nodeId);
    await gatewayB.request(CreditAcceptReceipt, { receipt: voidedReceipt(voided), fromNodeId: a.nodeId });
    const broken = checkCrossChain([aBefore, await chainOf(observeB, b.nodeId)]);
    expect(broken).toMatchObject({ receipts: 2, conserved: false, total: 2_020n });
    // A's credit-svc finds the breach on its own (its watch reads B's chain on from where it got
    // to), pays the receipt after all and proves the breach to A's router: both chains hold the
    // receipt, and the sum is back, with no operator asking.
    await waitFor(async () => (await observeA.request(CreditHealth, {})).details['voidBreachesFound'] === '1', {
      timeoutMs: SETTLE_MS,
      intervalMs: 200,
      what: "A's watch finding the receipt B voided and kept",
    });
    // The watch counts the breach as it finds it and appends the payment a moment after (a loaded
    // machine once read A's chain in between): the chains, as soon as the sum is back.
    const readBoth = async () => checkCrossChain([await chainOf(observeA, a.nodeId), await chainOf(observeB, b.nodeId)]);
    await waitFor(async () => (await readBoth()).conserved || undefined, { timeoutMs: SETTLE_MS, intervalMs: 200, what: "A's chain holding the receipt it paid after all" }).catch(
      () => undefined,
    );
    expect(await readBoth()).toMatchObject({ chains: 2, receipts: 2, conserved: true, total: 2_000n, problems: [] });
    expect(await observeA.request(CreditAudit, {})).toMatchObject({ ok: true, problems: [] });
    expect((await observeA.request(CreditHealth, {})).details).toMatchObject({ receiptsVoided: '0', creditVoided: '0' });
    const untrusted = async () =>
      (JSON.parse((await runCli(['trust', '--data-dir', a.home, '--json'])).stdout) as { nodes: Array<{ nodeId: string; untrusted: boolean }> }).nodes.find(
        (n) => n.nodeId === b.nodeId,
      )?.untrusted;
    await waitFor(untrusted, { timeoutMs: SETTLE_MS, intervalMs: 200, what: "B untrusted at A's router" });
    // A's operator audits B: the breach fails the audit, and was dealt with before.
    const caught = await runCli(['ledger', '--data-dir', a.home, '--peer', b.nodeId, '--audit', '--json']);
    expect(caught.code).toBe(1);
    // --audit replays this node's ledger: with --peer it says so rather than skip it silently.
    expect(caught.stderr).toContain("note: --audit replays this node's own ledger; with --peer only the peer's chain is audited");
    expect(JSON.parse(caught.stdout)).toMatchObject({ ok: true, voidBreaches: [{ receiptId: `no-ticket-1:${a.nodeId}:${b.nodeId}`, amount: '20' }] });
    expect(caught.stderr).toContain(`router: node ${b.nodeId} is now untrusted (it already was)`);
    expect(caught.stderr).toContain('credit: 1 was paid after all before');
    // Later passes of the watch pay nothing twice.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await observeA.request(CreditHealth, {})).details['voidBreachesFound']).toBe('1');
    expect(await headOf(observeA)).toBe(6n);
  });
});
