/**
 * For the registry's tests: DHT nodes (libs/dht) on its memory network under virtual time, each
 * checking records with the registry's own validator, as registry-svc runs them.
 */
import type { VirtualTime } from '@swarm/determinism';
import { seededRandom } from '@swarm/determinism';
import type { DhtNode, MemoryNetwork } from '@swarm/dht';
import { createMemoryNetwork, randomHexId, startDhtNode } from '@swarm/dht';
import { createRecordValidator } from '../provider-record';
import { TEST_POW_DIFFICULTY } from './test-signer';

/** Moves virtual time on, 50 ms at a time, until `promise` settles (at most 50 s of it). */
export async function drive<T>(vt: VirtualTime, promise: Promise<T>): Promise<T> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 1_000 && !settled; i++) await vt.advance(50);
  return promise;
}

/** `count` DHT nodes joined through the first, transports named n0, n1, ... on one memory network. */
export async function startMemoryDht(vt: VirtualTime, count: number, seed: number): Promise<{ readonly net: MemoryNetwork; readonly nodes: DhtNode[] }> {
  const random = seededRandom(seed);
  const net = createMemoryNetwork({ scheduler: vt.scheduler, random, latencyMs: 2, timeoutMs: 500 });
  const validate = createRecordValidator(TEST_POW_DIFFICULTY);
  const nodes: DhtNode[] = [];
  for (let i = 0; i < count; i++) {
    const seeds = nodes.length === 0 ? [] : [nodes[0].endpoint];
    nodes.push(
      await drive(
        vt,
        startDhtNode({ transport: net.transport(`n${i}`), clock: vt.clock, scheduler: vt.scheduler, random, validate }, { id: randomHexId(random), seeds, bucketSize: 4 }),
      ),
    );
    await vt.advance(100);
  }
  return { net, nodes };
}
