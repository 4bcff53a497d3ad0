/**
 * Two real credit-svcs, each on its own bus, paid by one payer that shows each of them another
 * branch of its chain (the same genesis, another block 2: the same credit pledged twice). Their
 * gateways are stand-ins serving each its branch; their registries, stand-ins over one shared map
 * (the DHT). Each payee publishes its sighting of the head it audited and reads the others' before
 * it countersigns: the second payee finds the fork, the payer is refused for good (the same credit
 * countersigned once), and the proof goes to the router.
 */
import type { BusService } from '@swarm/bus';
import { createBusClient, startBusService } from '@swarm/bus';
import type { ChainHead } from '@swarm/chain';
import { appendPledge, chainRules, createGenesis, makeReceipt, verifyForkProof } from '@swarm/chain';
import type { ReportForkRequest, SignedReceipt } from '@swarm/contracts';
import { ChainBlock, ChainSighting, CreditAcceptReceipt, CreditBalance, CreditHealth, ErrorCode, GatewayFetchChain, RouterReportFork } from '@swarm/contracts';
import { systemTime } from '@swarm/determinism';
import type { NodeIdentity } from '@swarm/identity';
import { loadOrCreateIdentity } from '@swarm/identity';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, swarmErrorOf, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { join } from 'node:path';
import { loadCreditConfig } from './config';
import type { CreditService } from './service';
import { startCreditService } from './service';
import type { SightingsDht } from './test-fixtures/registry-stand-in';
import { serveSightings } from './test-fixtures/registry-stand-in';

const HASH = new Uint8Array(32).fill(3);
const TICKET = new Uint8Array(32).fill(5);

interface Payee {
  readonly me: NodeIdentity;
  readonly server: NatsServerHandle;
  readonly nc: NatsConnection;
  svc: CreditService;
  /** Stops its credit-svc and starts another on the same data (its views file). */
  restart(): Promise<void>;
  readonly standIns: BusService[];
  readonly reported: ReportForkRequest[];
}

describe('credit-svc - sightings: a payer that shows two payees two branches', () => {
  let dir: TempDir;
  const payees: Payee[] = [];

  beforeAll(async () => {
    dir = await tempDir('swarm-credit-sightings-');
  });

  afterAll(async () => {
    for (const p of payees) {
      await p.svc.stop();
      for (const s of p.standIns) await s.stop(1_000);
      await p.nc.drain();
      await p.server.stop();
    }
    await dir.remove();
  });

  it("is convicted, not paid twice, by the payee that reads the other's sighting of another block of the same seq; the first signs its sighting again after a restart", async () => {
    const payer = await loadOrCreateIdentity(join(dir.path, 'payer'));
    const rules = chainRules();
    const atMs = Date.now() - 60_000;
    const genesis = createGenesis(payer, rules, atMs);
    /** The DHT, as the registries would store the sightings. */
    const dht: SightingsDht = new Map();

    const startPayee = async (name: string, branch: () => Uint8Array[]): Promise<Payee> => {
      const home = join(dir.path, name);
      const [me, server] = await Promise.all([loadOrCreateIdentity(home), startNatsServer()]);
      const nc = await connect({ servers: server.url });
      const standIns: BusService[] = [];
      const reported: ReportForkRequest[] = [];
      const standIn = async (service: string) => {
        const s = await startBusService({ nc, log: silentLogger(), name: service, version: '0.0.0', description: `${service} stand-in`, nodeId: me.nodeId });
        standIns.push(s);
        return s;
      };
      (await standIn('gateway-svc')).serve(GatewayFetchChain, (req) => {
        const blocks = branch();
        const from = Number(req.fromSeq) - 1;
        return { blocks: blocks.slice(from, from + req.limit), headSeq: BigInt(blocks.length), nodeId: payer.nodeId };
      });
      (await standIn('router-svc')).serve(RouterReportFork, (req) => {
        reported.push(req);
        return { nodeId: payer.nodeId, seq: 2n, alreadyKnown: false };
      });
      standIns.push(await serveSightings(nc, me.nodeId, dht));
      const config = loadCreditConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: home, SWARM_CREDIT_SYNC_WRITES: 'false', SWARM_GRACE_MS: '1000', SWARM_POW_DIFFICULTY: '0' });
      const start = () => startCreditService({ config, log: silentLogger(), nc, nodeId: me.nodeId, signer: me, ...systemTime });
      const payee: Payee = {
        me,
        server,
        nc,
        svc: await start(),
        standIns,
        reported,
        restart: async () => {
          await payee.svc.stop();
          payee.svc = await start();
        },
      };
      payees.push(payee);
      return payee;
    };

    // Each branch pledges the payer's credit to one payee at block 2.
    const ids = new Set<string>();
    const pledgeOn = (head: ChainHead, signed: SignedReceipt) => appendPledge(head, signed, payer, rules, { atMs: atMs + 1_000, hasReceipt: (x) => ids.has(x) });
    const receiptTo = (payee: NodeIdentity, taskId: string) =>
      makeReceipt({ payeePublicKey: payee.publicKey, amount: 30n, taskId, taskHash: HASH, resultHash: HASH, atMs: atMs + 1_000, serveTicket: TICKET }, payer);
    const branches: Uint8Array[][] = [[], []];
    const [a, b] = [await startPayee('payee-a', () => branches[0]), await startPayee('payee-b', () => branches[1])];
    const toA = receiptTo(a.me, 'task-a');
    const toB = receiptTo(b.me, 'task-b');
    branches[0] = [...genesis.blocks, ...pledgeOn(genesis.head, toA).blocks];
    branches[1] = [...genesis.blocks, ...pledgeOn(genesis.head, toB).blocks];

    // Payee A reads its branch, publishes its sighting of block 2, finds no other: it countersigns.
    const busA = createBusClient(a.nc, silentLogger());
    expect((await busA.request(CreditAcceptReceipt, { receipt: toA, fromNodeId: payer.nodeId })).receipt?.payeeSignature).toHaveLength(64);
    // Payee B reads the other branch and, before it countersigns, publishes its sighting and reads
    // A's: another block 2 signed by the payer. The payer is convicted, the receipt refused for good,
    // and the same credit is countersigned once.
    const busB = createBusClient(b.nc, silentLogger());
    const before = await busB.request(CreditBalance, { account: b.me.nodeId });
    const refused = await swarmErrorOf(busB.request(CreditAcceptReceipt, { receipt: toB, fromNodeId: payer.nodeId }));
    expect({ code: refused.code, retryable: refused.retryable, message: refused.message }).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_CHAIN,
      retryable: false,
      message: expect.stringMatching(/forked/),
    });
    await waitFor(() => b.reported.length > 0 || undefined, { timeoutMs: 15_000 });
    expect(b.reported.map((r) => (r.proof ? verifyForkProof(r.proof) : undefined))).toEqual([{ nodeId: payer.nodeId, seq: 2n }]);
    expect((await busB.request(CreditHealth, {})).details).toMatchObject({ sightingForks: '1', payerChainForks: '1' });
    // Nothing credited to B: its balance is as before.
    expect(await busB.request(CreditBalance, { account: b.me.nodeId })).toEqual(before);
    // Both sightings are in the DHT, each the payee's own, of block 2.
    const held = [...(dht.get(payer.nodeId)?.values() ?? [])].map((s) => ChainSighting.decode(s.sighting).payeeId).sort();
    expect(held).toEqual([a.me.nodeId, b.me.nodeId].sort());

    // A restarts after its sighting left the DHT (as it would expire): it signs it again from its
    // views file at once, with no receipt of the payer asking, so that later payees still compare.
    dht.get(payer.nodeId)?.delete(a.me.nodeId);
    await a.restart();
    const again = await waitFor(() => dht.get(payer.nodeId)?.get(a.me.nodeId), { timeoutMs: 10_000 });
    expect(ChainBlock.decode(ChainSighting.decode(again.sighting).payerBlock?.block ?? new Uint8Array()).seq).toBe(2n);
    expect((await busA.request(CreditHealth, {})).details).toMatchObject({ sightingsToRepublish: '0', sightingLooks: '0' });
  }, 30_000);
});
