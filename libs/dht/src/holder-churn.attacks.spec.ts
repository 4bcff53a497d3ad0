/**
 * ATTACK (helper-159): a complete read of an HONEST holder made to fail by the payer's churn of its
 * own filler slots between two pages: a low-id filler expires after page 1 is read and a new high-id
 * filler takes its slot before page 2, so the reader sees 257 records from a holder that never held
 * more than 256. The lookup counted that holder as a failed contact: its list (with payee A's
 * sighting) dropped from remoteHolders unsaid, and heldByMost was decided by the remaining holders
 * (the payer's one node, echoing payee B its own). Now a read that breaks off past its first page is
 * cut off, and the answer says it is short.
 */
import { seededRandom, virtualTime } from '@swarm/determinism';
import type { VirtualTime } from '@swarm/determinism';
import { randomHexId } from './dht-id';
import type { DhtNode } from './dht-node';
import { startDhtNode } from './dht-node';
import { createMemoryNetwork } from './memory-network';
import type { DhtTransport } from './wire';
import { drive as driveFor } from './test-drive';
import { providerOfTestRecord, testRecord, validateTestRecord } from './test-records';

const TIMEOUT_MS = 500;
const HOUR_MS = 60 * 60 * 1000;

const drive = <T>(vt: VirtualTime, promise: Promise<T>) => driveFor(vt, promise, 10, 2_000);

it("an honest holder read through a payer's churned fillers is cut off, not dropped unsaid: the answer says it is short", async () => {
  const random = seededRandom(11);
  const vt = virtualTime(1_700_000_000_000);
  const net = createMemoryNetwork({ scheduler: vt.scheduler, random, latencyMs: 3, timeoutMs: TIMEOUT_MS });
  const nodes: DhtNode[] = [];
  const KEY = 'sighting/payer';
  let expiringAt = 0;
  let churned = false;
  const attacker = net.transport('attacker');
  const add = async (wrap = (t: DhtTransport) => t) => {
    const seeds = nodes.length === 0 ? [] : [nodes[0].endpoint];
    const node = await drive(
      vt,
      startDhtNode(
        { transport: wrap(net.transport(`n${nodes.length}`)), clock: vt.clock, scheduler: vt.scheduler, random, validate: validateTestRecord },
        { id: randomHexId(random), seeds, bucketSize: 8 },
      ),
    );
    nodes.push(node);
    await vt.advance(100);
    return node;
  };
  for (let i = 0; i < 3; i++) await add();
  // The honest holder: its handlers untouched; the wrapper only stands for the payer's timing
  // (it stores its next filler once the low filler has expired, while page 2 is on its way, 60 ms of link).
  const honest = await add((t) => ({
    ...t,
    listen: (handlers) =>
      t.listen({
        ...handlers,
        findValue: async (from, req, network) => {
          if (req.paged && req.after && !churned && req.key === KEY) {
            churned = true;
            await new Promise<void>((r) => vt.scheduler.setTimer(Math.max(1, expiringAt - vt.clock.now() + 1), r));
            const now = vt.clock.now();
            await handlers.store('attacker', { id: 'f'.repeat(40), key: KEY, value: Buffer.concat([testRecord('z-filler', now, now + HOUR_MS), pad]) }, undefined);
          }
          return handlers.findValue(from, req, network);
        },
      }),
  }));
  const payerNode = await add();
  const [payeeB] = nodes;
  const pad = new TextEncoder().encode(`|${'x'.repeat(400)}`);
  const now = vt.clock.now();
  expiringAt = now + 400;
  const put = async (to: DhtNode, provider: string, exp = now + HOUR_MS) =>
    drive(vt, attacker.store(to.endpoint, { id: 'f'.repeat(40), key: KEY, value: Buffer.concat([testRecord(provider, now, exp), pad]) }));
  // Honest holder: payee A's and payee B's sightings, 253 fillers and one low filler expiring soon (256).
  await put(honest, 'payee-a');
  await put(honest, 'payee-b');
  for (let i = 0; i < 253; i++) await put(honest, `p${String(i).padStart(3, '0')}`);
  // The payer's node: payee B's own sighting only (it echoes each payee its own).
  await put(payerNode, 'payee-b');
  expiringAt = vt.clock.now() + 300;
  await put(honest, 'a-expiring', expiringAt);
  const run = await drive(vt, payeeB.findProviders(KEY, { holders: 4, complete: true }));
  const lists = run.remoteHolders.map((l) => l.map(providerOfTestRecord));
  const sawA = run.values.map(providerOfTestRecord).includes('payee-a');
  // The churn happened, payee A's sighting was not read, and the answer says it is short (cutOff: registry find's truncated).
  expect({ churned, sawA, shortAnswer: run.cutOff > 0, holders: lists.length }).toEqual({ churned: true, sawA: false, shortAnswer: true, holders: 1 });
  await Promise.all(nodes.map((n) => n.stop()));
});
