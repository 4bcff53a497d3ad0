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
import { appendPledge, chainRules, createGenesis, makeReceipt } from '@swarm/chain';
import type { SignedReceipt } from '@swarm/contracts';
import { ChainBlock, ChainSighting, CreditAcceptReceipt, CreditHealth, GatewayFetchChain } from '@swarm/contracts';
import { loadOrCreateIdentity } from '@swarm/identity';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, ServiceProcess, TempDir } from '@swarm/testing';
import { spawnService, startNatsServer, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LEDGER_DIR } from './config';
import { PAYER_VIEWS_FILE } from './payer-view-file';
import type { SightingsDht } from './test-fixtures/registry-stand-in';
import { serveSightings } from './test-fixtures/registry-stand-in';

const HASH = new Uint8Array(32).fill(3);
const TICKET = new Uint8Array(32).fill(5);

describe('credit-svc - the sightings it published, across a SIGKILL', () => {
  let dir: TempDir;
  const servers: NatsServerHandle[] = [];
  const connections: NatsConnection[] = [];
  const standIns: BusService[] = [];
  const running = new Set<ServiceProcess>();

  beforeAll(async () => {
    dir = await tempDir('swarm-credit-journal-');
  });

  afterAll(async () => {
    for (const proc of running) await proc.kill('SIGKILL');
    for (const s of standIns) await s.stop(1_000);
    for (const nc of connections) await nc.drain();
    for (const server of servers) await server.stop();
    await dir?.remove();
  });

  /** A payee node `name` on a bus of its own: its payer's chain (pledges to it), gateway and DHT stand-ins, and its credit-svc started as a process. */
  async function payeeNode(name: string) {
    const server = await startNatsServer();
    servers.push(server);
    const nc = await connect({ servers: server.url });
    connections.push(nc);
    const payer = await loadOrCreateIdentity(join(dir.path, `${name}-payer`));
    const home = join(dir.path, name);
    const me = await loadOrCreateIdentity(home);
    const rules = chainRules();
    const atMs = Date.now() - 60_000;
    let chain = createGenesis(payer, rules, atMs);
    let blocks = [...chain.blocks];
    const ids = new Set<string>();
    const dht: SightingsDht = new Map();
    const lookups = { fail: false };
    const gateway = await startBusService({ nc, log: silentLogger(), name: 'gateway-svc', version: '0.0.0', description: 'gateway stand-in', nodeId: me.nodeId });
    gateway.serve(GatewayFetchChain, (req) => {
      const from = Number(req.fromSeq) - 1;
      return { blocks: blocks.slice(from, from + req.limit), headSeq: BigInt(blocks.length), nodeId: payer.nodeId };
    });
    standIns.push(gateway, await serveSightings(nc, me.nodeId, dht, () => lookups.fail));
    const bus = createBusClient(nc, silentLogger());
    const env = { SWARM_NATS_URL: server.url, SWARM_DATA_DIR: home, SWARM_LOG_LEVEL: 'warn', SWARM_POW_DIFFICULTY: '0', SWARM_GRACE_MS: '1000' };
    return {
      home,
      env,
      lookups,
      /** A receipt of the payer's, pledged in a new block of its chain. */
      pledge(taskId: string): SignedReceipt {
        const receipt = makeReceipt({ payeePublicKey: me.publicKey, amount: 30n, taskId, taskHash: HASH, resultHash: HASH, atMs: atMs + 1_000, serveTicket: TICKET }, payer);
        chain = appendPledge(chain.head, receipt, payer, rules, { atMs: atMs + 1_000, hasReceipt: (x) => ids.has(x) });
        blocks = [...blocks, ...chain.blocks];
        return receipt;
      },
      async start(): Promise<ServiceProcess> {
        const proc = spawnService('credit-svc', env);
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
      },
      async accept(receipt: SignedReceipt): Promise<void> {
        const answer = await waitFor(async () => (await bus.request(CreditAcceptReceipt, { receipt, fromNodeId: payer.nodeId }, { timeoutMs: 5_000 })).receipt, {
          timeoutMs: 15_000,
          intervalMs: 200,
          what: 'the receipt countersigned',
        });
        expect(answer.payeeSignature).toHaveLength(64);
      },
      /** This payee's sighting of the payer in the DHT: its block's seq and when it was signed. */
      mine() {
        const held = dht.get(payer.nodeId)?.get(me.nodeId);
        if (held === undefined) return undefined;
        const sighting = ChainSighting.decode(held.sighting);
        return { seq: ChainBlock.decode(sighting.payerBlock?.block ?? new Uint8Array()).seq, issuedAtMs: Number(sighting.issuedAtMs) };
      },
      /** Waits for the sighting signed after `atMs`. */
      signedAgainAfter(atMs: number) {
        const mine = this.mine.bind(this);
        return waitFor(() => ((mine()?.issuedAtMs ?? 0) > atMs ? mine() : undefined), { timeoutMs: 15_000, what: 'the sighting signed again' });
      },
    };
  }

  it('signs again the head it published before it was killed, though its views file kept a lower one and its lookups fail', async () => {
    const node = await payeeNode('payee');
    // Block 2 countersigned, then a stop: the views file keeps the payer's chain to block 2.
    let proc = await node.start();
    await node.accept(node.pledge('task-1'));
    await proc.kill('SIGTERM');
    // A second credit-svc on the same ledger is refused by its lock, and leaves the running one's journal alone (helper-162).
    proc = await node.start();
    const second = spawnService('credit-svc', node.env);
    running.add(second);
    expect((await second.exited).code).not.toBe(0);
    // Block 3 countersigned, its sighting published; then SIGKILL, the views file left at block 2.
    await node.accept(node.pledge('task-2'));
    expect(node.mine()?.seq).toBe(3n);
    const killedAtMs = Date.now();
    expect((await proc.kill('SIGKILL')).signal).toBe('SIGKILL');

    node.lookups.fail = true;
    proc = await node.start();
    expect((await node.signedAgainAfter(killedAtMs)).seq).toBe(3n);
    await proc.kill('SIGTERM');
  }, 90_000);

  it('signs again, start after start, the sighting of a payer its views file never kept (killed before the file was first written): the journal makes it an anchor', async () => {
    const node = await payeeNode('payee-new');
    let proc = await node.start();
    await node.accept(node.pledge('task-1'));
    expect(node.mine()?.seq).toBe(2n);
    // Killed before the views file's first write (a minute): the journal alone holds the payer (helper-163).
    expect(existsSync(join(node.home, LEDGER_DIR, PAYER_VIEWS_FILE))).toBe(false);
    const killedAtMs = Date.now();
    expect((await proc.kill('SIGKILL')).signal).toBe('SIGKILL');
    proc = await node.start();
    expect((await node.signedAgainAfter(killedAtMs)).seq).toBe(2n);
    // An anchor now (signed again hourly), and its journal record with it: the next start signs it again too.
    const killedAgainAtMs = Date.now();
    expect((await proc.kill('SIGKILL')).signal).toBe('SIGKILL');
    proc = await node.start();
    expect((await node.signedAgainAfter(killedAgainAtMs)).seq).toBe(2n);
    await proc.kill('SIGTERM');
  }, 90_000);
});
