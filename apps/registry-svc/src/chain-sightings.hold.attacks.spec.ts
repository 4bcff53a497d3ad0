/**
 * A reviewer's check of what "published" means to the hold (credit-svc sighting-watch.ts publishDue:
 * `stored < 1` is "not published"): registry-svc's publish and find on a real DHT node (libs/dht on
 * its memory network, the registry's own validator), every other node of the network down.
 */
import { chainRules, createGenesis, makeChainSighting } from '@swarm/chain';
import type { SwarmError } from '@swarm/contracts';
import { ErrorCode, SignedChainSighting } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { createChainSightings } from './chain-sightings';
import { drive, startMemoryDht } from './test-fixtures/memory-dht';
import { createTestSigner, TEST_POW_DIFFICULTY } from './test-fixtures/test-signer';

const NOW = 1_800_000_000_000;

describe('sightings - what "published" means to the hold', () => {
  it('D2 (helper-153): a payee cut off from every other DHT node is told its sighting is stored by none (its own copy does not count), and a lookup heard by no other node is no answer', async () => {
    const vt = virtualTime(NOW);
    const { net, nodes } = await startMemoryDht(vt, 5, 7);
    const payer = createTestSigner();
    const payee = createTestSigner();
    const registry = createChainSightings({ dht: () => ({ node: nodes[1], nodeId: payee.nodeId, powNonce: payee.powNonce }), powDifficulty: TEST_POW_DIFFICULTY, clock: vt.clock });
    // Every other node of the DHT out of reach of this payee's.
    for (const i of [0, 2, 3, 4]) net.kill(`n${i}`);
    const block = createGenesis(payer, chainRules(), NOW - 60_000).blocks[0];
    const sighting = SignedChainSighting.decode(makeChainSighting(payee, block, { atMs: vt.clock.now(), ttlMs: 60_000 }));
    const report = await drive(vt, registry.publish({ sighting }));
    // No other node answered the lookup: not "no sightings" but UNAVAILABLE (helper-154).
    const found = await drive(vt, registry.find({ payerId: payer.nodeId })).catch((err: unknown) => err as SwarmError);
    expect(found).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    // Not counted stored (no other node holds it), so that no look made on it is clean (credit-svc wants 1).
    expect(report.stored).toBe(0);
    await Promise.all(nodes.map((n) => n.stop()));
  });
});
