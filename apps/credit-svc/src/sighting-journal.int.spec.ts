/**
 * A payee's credit-svc as a real process, SIGKILLed right after it countersigned a receipt and
 * published its sighting of the payer's new head, its views file a block lower (written at its last
 * stop). Started again while every lookup of the payer's key fails (a node on the key stalling it),
 * it signs the head again from its journal (published-sightings.ts), never the file's lower block:
 * that one would take its slot and show only a prefix that two branches could share. A second
 * credit-svc started on its ledger meanwhile is refused by the ledger's lock before it touches the
 * journal.
 */
import type { BusService } from '@swarm/bus';
import { createBusClient, startBusService } from '@swarm/bus';
import type { ChainHead } from '@swarm/chain';
import { appendPledge, chainRules, createGenesis, makeReceipt } from '@swarm/chain';
import type { SignedReceipt } from '@swarm/contracts';
import { ChainBlock, ChainSighting, CreditAcceptReceipt, CreditHealth, GatewayFetchChain } from '@swarm/contracts';
import { loadOrCreateIdentity } from '@swarm/identity';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, ServiceProcess, TempDir } from '@swarm/testing';
import { spawnService, startNatsServer, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { join } from 'node:path';
import type { SightingsDht } from './test-fixtures/registry-stand-in';
import { serveSightings } from './test-fixtures/registry-stand-in';

const HASH = new Uint8Array(32).fill(3);
const TICKET = new Uint8Array(32).fill(5);

describe('credit-svc - the sightings it published, across a SIGKILL', () => {
  let dir: TempDir;
  let server: NatsServerHandle;
  let nc: NatsConnection;
  const standIns: BusService[] = [];
  const running = new Set<ServiceProcess>();

  beforeAll(async () => {
    [dir, server] = await Promise.all([tempDir('swarm-credit-journal-'), startNatsServer()]);
    nc = await connect({ servers: server.url });
  });

  afterAll(async () => {
    for (const proc of running) await proc.kill('SIGKILL');
    for (const s of standIns) await s.stop(1_000);
    await nc?.drain();
    await server?.stop();
    await dir?.remove();
  });

  it('signs again the head it published before it was killed, though its views file kept a lower one and its lookups fail', async () => {
    const payer = await loadOrCreateIdentity(join(dir.path, 'payer'));
    const home = join(dir.path, 'payee');
    const me = await loadOrCreateIdentity(home);
    const rules = chainRules();
    const atMs = Date.now() - 60_000;
    let chain = createGenesis(payer, rules, atMs);
    let blocks = [...chain.blocks];
    const ids = new Set<string>();
    const pledge = (head: ChainHead, taskId: string): SignedReceipt => {
      const receipt = makeReceipt({ payeePublicKey: me.publicKey, amount: 30n, taskId, taskHash: HASH, resultHash: HASH, atMs: atMs + 1_000, serveTicket: TICKET }, payer);
      chain = appendPledge(head, receipt, payer, rules, { atMs: atMs + 1_000, hasReceipt: (x) => ids.has(x) });
      blocks = [...blocks, ...chain.blocks];
      return receipt;
    };
    const dht: SightingsDht = new Map();
    const lookups = { fail: false };
    const gateway = await startBusService({ nc, log: silentLogger(), name: 'gateway-svc', version: '0.0.0', description: 'gateway stand-in', nodeId: me.nodeId });
    gateway.serve(GatewayFetchChain, (req) => {
      const from = Number(req.fromSeq) - 1;
      return { blocks: blocks.slice(from, from + req.limit), headSeq: BigInt(blocks.length), nodeId: payer.nodeId };
    });
    standIns.push(gateway, await serveSightings(nc, me.nodeId, dht, () => lookups.fail));
    const bus = createBusClient(nc, silentLogger());
    const start = async () => {
      const proc = spawnService('credit-svc', { SWARM_NATS_URL: server.url, SWARM_DATA_DIR: home, SWARM_LOG_LEVEL: 'warn', SWARM_POW_DIFFICULTY: '0', SWARM_GRACE_MS: '1000' });
      running.add(proc);
      void proc.exited.then(() => running.delete(proc));
      await waitFor(
        async () => {
          if (proc.child.exitCode !== null) throw new Error(`credit-svc exited: ${proc.output()}`);
          return bus.request(CreditHealth, {}, { timeoutMs: 500 });
        },
        { timeoutMs: 20_000, intervalMs: 50, what: 'credit-svc health' },
      );
      return proc;
    };
    const accept = async (receipt: SignedReceipt) => {
      const answer = await waitFor(async () => (await bus.request(CreditAcceptReceipt, { receipt, fromNodeId: payer.nodeId }, { timeoutMs: 5_000 })).receipt, {
        timeoutMs: 15_000,
        intervalMs: 200,
        what: 'the receipt countersigned',
      });
      expect(answer.payeeSignature).toHaveLength(64);
    };
    const mine = () => {
      const held = dht.get(payer.nodeId)?.get(me.nodeId);
      if (held === undefined) return undefined;
      const sighting = ChainSighting.decode(held.sighting);
      return { seq: ChainBlock.decode(sighting.payerBlock?.block ?? new Uint8Array()).seq, issuedAtMs: Number(sighting.issuedAtMs) };
    };

    // Block 2 countersigned, then a stop: the views file keeps the payer's chain to block 2.
    let proc = await start();
    await accept(pledge(chain.head, 'task-1'));
    await proc.kill('SIGTERM');
    // A second credit-svc on the same ledger is refused by its lock, and leaves the running one's journal alone (helper-162).
    proc = await start();
    const second = spawnService('credit-svc', { SWARM_NATS_URL: server.url, SWARM_DATA_DIR: home, SWARM_LOG_LEVEL: 'warn', SWARM_POW_DIFFICULTY: '0' });
    running.add(second);
    expect((await second.exited).code).not.toBe(0);
    // Block 3 countersigned, its sighting published; then SIGKILL, the views file left at block 2.
    await accept(pledge(chain.head, 'task-2'));
    expect(mine()?.seq).toBe(3n);
    const killedAtMs = Date.now();
    expect((await proc.kill('SIGKILL')).signal).toBe('SIGKILL');

    lookups.fail = true;
    proc = await start();
    const again = await waitFor(() => ((mine()?.issuedAtMs ?? 0) > killedAtMs ? mine() : undefined), { timeoutMs: 15_000, what: 'the sighting signed again' });
    expect(again.seq).toBe(3n);
    await proc.kill('SIGTERM');
  }, 90_000);
});
