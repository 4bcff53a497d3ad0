/**
 * Sightings of payers' chains stored and found on a real DHT (libs/dht on its memory network, with
 * the registry's own validator), as registry-svc serves them to credit-svc.
 */
import { chainRules, createGenesis, makeChainSighting, withPowNonce } from '@swarm/chain';
import type { SwarmError } from '@swarm/contracts';
import { ChainBlock, ChainSighting, ErrorCode, SignedChainSighting } from '@swarm/contracts';
import { testChains } from '@swarm/testing';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { DhtNode, MemoryNetwork } from '@swarm/dht';
import { hasProofOfWork } from '@swarm/records';
import type { ChainSightings } from './chain-sightings';
import { createChainSightings, sightingKey } from './chain-sightings';
import type { TestSigner } from './test-fixtures/test-signer';
import { drive, startMemoryDht } from './test-fixtures/memory-dht';
import { createTestSigner, TEST_POW_DIFFICULTY } from './test-fixtures/test-signer';

const NOW = 1_800_000_000_000;
const TTL_MS = 10 * 60_000;

describe('chain sightings on the DHT', () => {
  const payer = createTestSigner();
  const payerBlock = createGenesis(payer, chainRules(), NOW - 60_000).blocks[0];
  let vt: VirtualTime;
  let nodes: DhtNode[];
  let payees: TestSigner[];
  let attacker: ReturnType<MemoryNetwork['transport']>;

  /** The registry of the node whose DHT node is nodes[i] and whose key is payees[i]. */
  const registryOf = (i: number): ChainSightings =>
    createChainSightings({ dht: () => ({ node: nodes[i], nodeId: payees[i].nodeId, powNonce: payees[i].powNonce }), powDifficulty: TEST_POW_DIFFICULTY, clock: vt.clock });
  const signedBy = (payee: TestSigner, block = payerBlock, atMs = vt.clock.now()) => SignedChainSighting.decode(makeChainSighting(payee, block, { atMs, ttlMs: TTL_MS }));

  beforeEach(async () => {
    vt = virtualTime(NOW);
    const dht = await startMemoryDht(vt, 5, 5);
    nodes = dht.nodes;
    payees = [createTestSigner(), createTestSigner(), createTestSigner(), createTestSigner(), createTestSigner()];
    attacker = dht.net.transport('attacker');
  });

  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it("stores this node's sighting with its proof of work, and another node finds it, the newest of each payee", async () => {
    const hex = (s: SignedChainSighting) => Buffer.from(s.signature).toString('hex');
    const first = [signedBy(payees[1]), signedBy(payees[2])];
    const report = await drive(vt, registryOf(1).publish({ sighting: first[0] }));
    expect(report.stored).toBeGreaterThan(1);
    await drive(vt, registryOf(2).publish({ sighting: first[1] }));
    const found = await drive(vt, registryOf(4).find({ payerId: payer.nodeId }));
    expect(found.sightings.map(hex).sort()).toEqual(first.map(hex).sort());
    for (const s of found.sightings) expect(s.payeePowNonce).toBe(hex(s) === hex(first[0]) ? payees[1].powNonce : payees[2].powNonce);
    // A newer sighting of payee 1 replaces its last.
    await vt.advance(1_000);
    const newer = signedBy(payees[1]);
    await drive(vt, registryOf(1).publish({ sighting: newer }));
    const again = await drive(vt, registryOf(3).find({ payerId: payer.nodeId }));
    expect(again.sightings.map(hex).sort()).toEqual([newer, first[1]].map(hex).sort());
    // None of another payer.
    expect((await drive(vt, registryOf(3).find({ payerId: payees[4].nodeId }))).sightings).toEqual([]);
  });

  it("keeps a payee's sighting of a higher block while it lives: a later one of a lower block, or one ending sooner, is refused", async () => {
    const chain = testChains.spender(testChains.node(), 2);
    const [low, high] = chain.blocks.slice(-2);
    const seqFound = async () => {
      const found = await drive(vt, registryOf(3).find({ payerId: chain.id }));
      return found.sightings.map((x) => ChainBlock.decode(ChainSighting.decode(x.sighting).payerBlock!.block).seq);
    };
    const signed = (block: Uint8Array, ttlMs: number) => SignedChainSighting.decode(makeChainSighting(payees[1], block, { atMs: vt.clock.now(), ttlMs }));
    expect((await drive(vt, registryOf(1).publish({ sighting: signed(high, TTL_MS) }))).stored).toBeGreaterThan(1);
    await vt.advance(1_000);
    expect(await drive(vt, registryOf(1).publish({ sighting: signed(low, TTL_MS) }))).toMatchObject({ stored: 0 });
    await vt.advance(1_000);
    expect(await drive(vt, registryOf(1).publish({ sighting: signed(high, TTL_MS / 2) }))).toMatchObject({ stored: 0 });
    expect(await seqFound()).toEqual([chain.head.seq]);
    // Once it has expired, the slot takes any.
    await vt.advance(TTL_MS);
    expect((await drive(vt, registryOf(1).publish({ sighting: signed(low, TTL_MS) }))).stored).toBeGreaterThan(1);
    expect(await seqFound()).toEqual([chain.head.seq - 1n]);
  });

  it("finds a payee's sighting under a key filled past what one reply carries: every holder's, page by page", async () => {
    // A payer's made-up payees (a proof of work each) fill its key on the nodes a lookup hears.
    const fillers = Array.from({ length: 250 }, () => createTestSigner());
    const values = fillers.map((f) => withPowNonce(SignedChainSighting.encode(signedBy(f)).finish(), f.powNonce));
    expect(values.reduce((n, v) => n + v.byteLength, 0)).toBeGreaterThan(64 * 1024);
    for (const holder of nodes.slice(0, 4)) {
      for (const value of values) await drive(vt, attacker.store(holder.endpoint, { id: 'f'.repeat(40), key: sightingKey(payer.nodeId), value }));
    }
    const honest = signedBy(payees[1]);
    await drive(vt, registryOf(1).publish({ sighting: honest }));
    const found = await drive(vt, registryOf(4).find({ payerId: payer.nodeId }));
    const payeesFound = new Set(found.sightings.map((x) => ChainSighting.decode(x.sighting).payeeId));
    expect({ count: found.sightings.length, honest: payeesFound.has(payees[1].nodeId) }).toEqual({ count: 251, honest: true });
  });

  it("tells the seq of this node's own sighting as each other holder heard holds it: none where they all refused it (their slots full), however its own copy reads", async () => {
    const honest = signedBy(payees[1]);
    await drive(vt, registryOf(1).publish({ sighting: honest }));
    const first = await drive(vt, registryOf(1).find({ payerId: payer.nodeId }));
    expect({ heard: first.ownHeldSeqs.length > 0, held: first.ownHeldSeqs.every((seq) => seq === 1n), own: first.own && ChainSighting.decode(first.own.sighting).payeeId }).toEqual(
      {
        heard: true,
        held: true,
        own: payees[1].nodeId,
      },
    );
    // Every node but node 2 full of a payer's made-up payees: node 2's sighting is held by itself alone.
    const fillers = Array.from({ length: 256 }, () => createTestSigner());
    for (const holder of nodes.filter((_, i) => i !== 2)) {
      for (const f of fillers) {
        const value = withPowNonce(SignedChainSighting.encode(signedBy(f)).finish(), f.powNonce);
        await drive(vt, attacker.store(holder.endpoint, { id: 'f'.repeat(40), key: sightingKey(payer.nodeId), value }));
      }
    }
    expect((await drive(vt, registryOf(2).publish({ sighting: signedBy(payees[2]) }))).stored).toBe(0);
    const found = await drive(vt, registryOf(2).find({ payerId: payer.nodeId }));
    const own = found.sightings.some((x) => ChainSighting.decode(x.sighting).payeeId === payees[2].nodeId);
    expect({ own, heard: found.ownHeldSeqs.length > 0, heldBy: found.ownHeldSeqs.filter((seq) => seq > 0n).length }).toEqual({ own: true, heard: true, heldBy: 0 });
  });

  it("publishes only this node's own sightings, and only valid ones", async () => {
    const err = (p: Promise<unknown>) =>
      drive(vt, p).then(
        () => undefined,
        (e: unknown) => e as SwarmError,
      );
    expect((await err(registryOf(1).publish({ sighting: signedBy(payees[2]) })))?.code).toBe(ErrorCode.ERROR_CODE_PERMISSION_DENIED);
    const forged = { ...signedBy(payees[1]), signature: new Uint8Array(64).fill(9) };
    const refused = await err(registryOf(1).publish({ sighting: forged }));
    expect({ code: refused?.code, message: refused?.message }).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringMatching(/^not a valid sighting: .*signature does not verify/),
    });
    expect((await err(registryOf(1).publish({})))?.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect((await err(registryOf(1).find({ payerId: 'x'.repeat(64) })))?.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect((await drive(vt, registryOf(3).find({ payerId: payer.nodeId }))).sightings).toEqual([]);
  });

  it('refuses sightings a peer stores that do not check out: of another payer, expired, without proof of work', async () => {
    const holder = nodes[2];
    const store = (key: string, value: Uint8Array) => drive(vt, attacker.store(holder.endpoint, { id: 'f'.repeat(40), key, value }));
    const good = withPowNonce(SignedChainSighting.encode(signedBy(payees[3])).finish(), payees[3].powNonce);
    expect(await store(sightingKey(payees[0].nodeId), good)).toMatchObject({ stored: false, refusal: expect.stringMatching(/where one of .* was expected/) });
    // A nonce without the proof of work (at the test's low difficulty, 1 in 16 has it by chance).
    let noWork = payees[3].powNonce + 1n;
    while (hasProofOfWork(payees[3].nodeId, noWork, TEST_POW_DIFFICULTY)) noWork += 1n;
    expect(await store(sightingKey(payer.nodeId), withPowNonce(good, noWork))).toMatchObject({ stored: false, refusal: expect.stringMatching(/no proof of work/) });
    expect(await store(`${sightingKey(payer.nodeId)}x`, good)).toMatchObject({ stored: false, refusal: expect.stringMatching(/is not sighting\/<64 hex node id>/) });
    const old = withPowNonce(SignedChainSighting.encode(signedBy(payees[3], payerBlock, NOW - TTL_MS)).finish(), payees[3].powNonce);
    expect(await store(sightingKey(payer.nodeId), old)).toMatchObject({ stored: false, refusal: expect.stringMatching(/expired/) });
    expect(await store(sightingKey(payer.nodeId), good)).toEqual({ stored: true, refusal: '' });
    // Past its lifetime no registry hands it over.
    await vt.advance(TTL_MS + 1);
    expect((await drive(vt, registryOf(0).find({ payerId: payer.nodeId }))).sightings).toEqual([]);
  });
});
