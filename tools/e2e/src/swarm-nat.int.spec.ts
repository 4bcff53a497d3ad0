/**
 * A payer behind NAT, between two real nodes (processes, as `swarm up` runs them): node A's
 * gateway tells peers an address nothing listens on (SWARM_GATEWAY_ADVERTISE), as a node behind a
 * NAT does, so A can call node B but B cannot call A. A's tasks run on B, whose credit-svc cannot
 * read A's chain through A's gateway before countersigning A's receipts; A's outbox offers the
 * chain instead (docs/chain.md "Payers behind NAT"), and the receipts are countersigned once B's
 * sighting of it is held by node C and compared (docs/chain.md "Sightings").
 */
import { busConnectOptions, createBusClient } from '@swarm/bus';
import type { BusClient } from '@swarm/bus';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import { CreditHealth, fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { busKeyFile } from '@swarm/identity';
import type { RunningNode } from '@swarm/node';
import { freePorts, startNode } from '@swarm/node';
import { demoInputs, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';

jest.setTimeout(180_000);

const ENV = { SWARM_EXECUTOR_THREADS: '1', SWARM_LOG_LEVEL: 'warn', SWARM_RECEIPT_PASS_MS: '200' };
/** Bounds on a busy machine; they are not speeds. */
const WAIT_MS = 60_000;
const TASKS = 3;

describe('swarm - a payer behind NAT pays by offering its chain', () => {
  const homes: TempDir[] = [];
  const nodes: RunningNode[] = [];
  const observers: NatsConnection[] = [];
  let client: SwarmClient | undefined;

  afterAll(async () => {
    await client?.close();
    for (const o of observers) await o.close().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(homes.map((h) => h.remove()));
  }, 60_000);

  const observe = async (node: RunningNode): Promise<BusClient> => {
    const observer = await connect({ servers: node.natsUrl, ...(await busConnectOptions('observer', busKeyFile(node.home, 'observer'))) });
    observers.push(observer);
    return createBusClient(observer, silentLogger());
  };
  const creditHealth = async (bus: BusClient) => (await bus.request(CreditHealth, {}, { timeoutMs: 5_000 })).details;

  it('has B countersign every receipt of A, whose gateway B cannot reach, from the blocks A offered', async () => {
    const [homeB, homeA, homeC] = [await tempDir('swarm-nat-b-'), await tempDir('swarm-nat-a-'), await tempDir('swarm-nat-c-')];
    homes.push(homeB, homeA, homeC);
    // B runs vecadd; A runs none of it, and tells peers a port nothing listens on. C is a third node
    // B can reach: B's sightings of A's chain need another DHT node to hold them (docs/chain.md "Sightings").
    const b = await startNode({ home: homeB.path, skills: ['vecadd'], env: ENV });
    nodes.push(b);
    const c = await startNode({ home: homeC.path, seeds: [b.peerAddress], skills: ['mlp'], env: ENV });
    nodes.push(c);
    const [closed] = await freePorts(1);
    const a = await startNode({ home: homeA.path, seeds: [b.peerAddress], skills: ['mlp'], env: { ...ENV, SWARM_GATEWAY_ADVERTISE: `127.0.0.1:${closed}` } });
    nodes.push(a);
    client = await connectSwarm(a.natsUrl, { nkeyFile: a.clientKeyFile });
    const [busA, busB] = [await observe(a), await observe(b)];

    const inputs = demoInputs('vecadd', 64, seededRandom(1));
    const budget = priceOf('vecadd', inputs.map(fromTensor));
    // B is found through the DHT once A's registry has asked it: submitted until it runs there.
    for (let i = 0; i < TASKS; i++) {
      const done = await waitFor(
        async () =>
          client?.submit({ skill: 'vecadd', inputs, budget, timeoutMs: 20_000 }).catch((err: { codeName?: string }) => {
            if (err.codeName === 'SWARM_NO_PROVIDER') return undefined;
            throw err;
          }),
        { timeoutMs: WAIT_MS, what: `task ${i} run on B` },
      );
      expect(done).toMatchObject({ providerId: b.nodeId });
    }

    // Every receipt countersigned: nothing left pledged in A's chain, B's payer reads failed and the blocks came offered.
    const settled = await waitFor(
      async () => {
        const [healthA, healthB] = [await creditHealth(busA), await creditHealth(busB)];
        return healthA['chainPledged'] === '0' && healthA['receiptsFailing'] === '0' ? { healthA, healthB } : undefined;
      },
      { timeoutMs: WAIT_MS, what: "A's receipts countersigned by B" },
    );
    expect(Number(settled.healthB['payerChainReadsFailed'])).toBeGreaterThan(0);
    expect(Number(settled.healthB['payerChainBlocksOffered'])).toBeGreaterThan(0);
    expect(settled.healthB['payerChainsRefused']).toBe('0');
    expect(Number(settled.healthA['chainSeq'])).toBeGreaterThanOrEqual(1 + 2 * TASKS);
    // B published its sightings of A's chain (held by C) before countersigning.
    expect(Number(settled.healthB['sightingsPublished'])).toBeGreaterThan(0);
  });
});
