/**
 * `swarm ledger --peer` telling the node's router of a fork or a broken void, over a real
 * nats-server: stand-ins for gateway-svc (a peer's chain, built with @swarm/chain), credit-svc (the
 * voids the node holds) and router-svc (RouterReportFork and RouterReportVoidBreach, verifying the
 * proof as the router does). The router's own handling is apps/router-svc's trust.int.spec.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusService } from '@swarm/bus';
import { startBusService } from '@swarm/bus';
import { chainRules, countersignVoid, makeVoid, verifyForkProof, verifyVoidBreachProof } from '@swarm/chain';
import type { SignedVoid } from '@swarm/contracts';
import { ChainBlocksResponse, CreditPaidVoids, CreditReinstateVoided, ErrorCode, GatewayFetchChain, RouterReportFork, RouterReportVoidBreach, SwarmError } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { toCliError } from '../cli-error';
import { ledgerCommand } from './ledger';
import { TestNodes } from './test-fixtures/test-chains';

jest.setTimeout(60_000);

const AT = Date.now() - 3_600_000;

describe('swarm ledger --peer - a fork is reported to the node’s router', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let gateway: BusService;
  let router: BusService | undefined;
  let home: string;
  let out: string;
  let err: string;
  let swarm: TestNodes;
  let peer: string;
  let peerBlocks: Uint8Array[];
  let paidVoids: SignedVoid[] = [];
  const reinstated: string[] = [];
  let routerAnswer: 'ok' | 'refuse';
  const reported: Array<{ nodeId: string; seq: bigint }> = [];

  beforeAll(async () => {
    swarm = new TestNodes(chainRules(), AT);
    for (let i = 0; i < 6; i++) swarm.pay(i % 2, 2n, `task-${i}`, AT + 1_000 * (i + 1));
    peer = swarm.nodes[1].signer.nodeId;
    peerBlocks = [...swarm.nodes[1].blocks];
    peerBlocks.splice(3, 0, swarm.otherBlock(1, 3, AT + 10_000));
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    gateway = await startBusService({ nc, log: silentLogger(), name: 'gateway-svc', version: '0.0.0', description: 'stand-in', nodeId: swarm.nodes[0].signer.nodeId });
    // The voids this node holds, in one page; a void breach proof pays its receipt after all, once.
    gateway.serve(CreditPaidVoids, () => ({ voids: paidVoids, nextAfterReceiptId: '' }));
    gateway.serve(CreditReinstateVoided, (req) => {
      const { receiptId } = verifyVoidBreachProof(req.proof!);
      const alreadyReinstated = reinstated.includes(receiptId);
      if (!alreadyReinstated) reinstated.push(receiptId);
      return { receiptId, amount: 2n, alreadyReinstated };
    });
    gateway.serve(GatewayFetchChain, (req) => {
      const from = Number(req.fromSeq) - 1;
      return ChainBlocksResponse.fromPartial({ blocks: peerBlocks.slice(from, from + (req.limit || 1_000)), headSeq: BigInt(peerBlocks.length), nodeId: req.peerNodeId });
    });
    await nc.flush();
  });

  afterAll(async () => {
    await router?.stop(1_000);
    await gateway?.stop(1_000);
    await nc?.drain();
    await server?.stop();
  });

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'swarm-ledger-router-'));
    out = '';
    err = '';
    reported.length = 0;
    routerAnswer = 'ok';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await rm(home, { recursive: true, force: true });
  });

  async function startRouter() {
    router = await startBusService({ nc, log: silentLogger(), name: 'router-svc', version: '0.0.0', description: 'stand-in', nodeId: swarm.nodes[0].signer.nodeId });
    router.serve(RouterReportFork, (req) => {
      if (routerAnswer === 'refuse') throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'the disk is full');
      const evidence = verifyForkProof(req.proof!);
      const alreadyKnown = reported.some((r) => r.nodeId === evidence.nodeId);
      reported.push(evidence);
      return { ...evidence, alreadyKnown };
    });
    router.serve(RouterReportVoidBreach, (req) => {
      if (routerAnswer === 'refuse') throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'the disk is full');
      const { nodeId, seq, receiptId } = verifyVoidBreachProof(req.proof!);
      const alreadyKnown = reported.some((r) => r.nodeId === nodeId);
      reported.push({ nodeId, seq });
      return { nodeId, receiptId, alreadyKnown };
    });
    await nc.flush();
  }

  async function failure(run: Promise<void>) {
    return toCliError(
      await run.then(
        () => new Error('expected the command to fail'),
        (e: unknown) => e,
      ),
    );
  }

  const forkMessage = () => `the chain of ${peer} forked: two different blocks with seq 3; the proof is kept in ${join(home, 'chain-evidence', `${peer}-3.forkproof`)}`;

  it('warns, and fails only as the audit does, when no router answers', async () => {
    expect(await failure(ledgerCommand({ nats: server.url, dataDir: home, peer }))).toMatchObject({ code: 'SWARM_AUDIT_FAILED', message: forkMessage() });
    expect(out).toMatch(/result\s+│ FORKED/);
    expect(out).toMatch(new RegExp(`warning: the node's router could not be told of the fork \\(.+\\); it may still dispatch to ${peer}`));
  });

  it("sends the kept proof to the node's router and says the peer is now untrusted (stderr beside --json)", async () => {
    await startRouter();
    expect(await failure(ledgerCommand({ nats: server.url, dataDir: home, peer }))).toMatchObject({ code: 'SWARM_AUDIT_FAILED', message: forkMessage() });
    expect(reported).toEqual([{ nodeId: peer, seq: 3n }]);
    expect(out).toContain(`router: node ${peer} is now untrusted (convicted by this proof); this node never dispatches to it again`);

    out = '';
    expect(await failure(ledgerCommand({ nats: server.url, dataDir: home, peer, json: true }))).toMatchObject({ code: 'SWARM_AUDIT_FAILED' });
    expect(JSON.parse(out)).toMatchObject({ nodeId: peer, ok: false, refusal: { reason: 'fork', seq: '3' } });
    expect(err).toContain(`router: node ${peer} is now untrusted (it already was)`);

    out = '';
    routerAnswer = 'refuse';
    expect(await failure(ledgerCommand({ nats: server.url, dataDir: home, peer }))).toMatchObject({ code: 'SWARM_AUDIT_FAILED', message: forkMessage() });
    expect(out).toContain("warning: the node's router could not be told of the fork (the disk is full)");
  });

  it('proves a peer that broke its word on a void to the router, which then distrusts it; a router that cannot be told is a warning', async () => {
    await startRouter();
    peerBlocks = [...swarm.nodes[1].blocks];
    const [own, other] = swarm.nodes;
    // task-0 is in the peer's chain (a RECEIPT_IN at seq 2), and the peer countersigned its void too.
    paidVoids = [countersignVoid(makeVoid({ ...swarm.receipt(0, 2n, 'task-0', AT + 1_000), payeeSignature: new Uint8Array(0) }, own.signer), other.signer)];
    try {
      const broken = await failure(ledgerCommand({ nats: server.url, dataDir: home, peer }));
      expect(broken).toMatchObject({ code: 'SWARM_AUDIT_FAILED', message: expect.stringMatching(/holds 1 receipt it voided at this node's request/) });
      expect(reported).toEqual([{ nodeId: peer, seq: 2n }]);
      expect(out).toContain(`router: node ${peer} is now untrusted (convicted by this proof); this node never dispatches to it again`);
      // And the receipt is paid after all, so both chains hold it.
      expect(reinstated).toEqual([`task-0:${own.signer.nodeId}:${peer}`]);
      expect(out).toContain("credit: paid 1 voided receipt after all (2 credits), now in this node's chain as well");

      out = '';
      expect(await failure(ledgerCommand({ nats: server.url, dataDir: home, peer, json: true }))).toMatchObject({ code: 'SWARM_AUDIT_FAILED' });
      expect(JSON.parse(out)).toMatchObject({ nodeId: peer, ok: true, voidBreaches: [{ seq: '2', amount: '2' }] });
      expect(err).toContain(`router: node ${peer} is now untrusted (it already was)`);
      expect(err).toContain('credit: 1 was paid after all before');

      out = '';
      routerAnswer = 'refuse';
      await failure(ledgerCommand({ nats: server.url, dataDir: home, peer }));
      expect(out).toContain(`warning: the node's router could not be told of the broken void (the disk is full); it may still dispatch to ${peer}`);
    } finally {
      paidVoids = [];
    }
  });
});
