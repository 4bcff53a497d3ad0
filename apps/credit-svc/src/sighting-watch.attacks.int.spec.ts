/**
 * A reviewer's attacks on the sighting watch (helper-152), kept as its tests: real payer views
 * (payer-views.ts), the real watch (sighting-watch.ts), real signed sightings; only the DHT (a map)
 * and the payer's gateway (a function the forking payer controls) are stand-ins. Each failed on
 * the first version of the watch.
 */
import type { ChainPage, ChainSigner } from '@swarm/chain';
import { verifyForkProof } from '@swarm/chain';
import type { ForkProof, SignedChainSighting } from '@swarm/contracts';
import { SignedBlock } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { KeptView, PayerViews } from './payer-views';
import type { SightingWatch } from './sighting-watch';
import { MIN_LOOK_INTERVAL_MS } from './sighting-watch';
import type { Node } from './test-fixtures/chains';
import { createGenesis } from '@swarm/chain';
import { node, pay, rules, spender, START_MS } from './test-fixtures/chains';
import { foundIn, otherBlockAt, putSighting, readAndLook, startViewsAndWatch } from './test-fixtures/sightings';

type Gateway = (fromSeq: bigint, limit: number) => Promise<ChainPage>;

interface Setup {
  readonly vt: VirtualTime;
  readonly views: PayerViews;
  readonly watch: SightingWatch;
  readonly dht: Map<string, Map<string, SignedChainSighting>>;
  readonly forks: Array<{ payer: string; proof: ForkProof; atMs: number }>;
}

/** This node (`me`) reading payers' chains through `gateway(payer)`, which the payer controls. */
function setup(me: Node, gateway: (payer: string, vt: VirtualTime) => Gateway, restored?: KeptView[]): Setup {
  const vt = virtualTime(START_MS + 10_000);
  const dht = new Map<string, Map<string, SignedChainSighting>>();
  const forks: Setup['forks'] = [];
  const { views, watch } = startViewsAndWatch(me, vt, {
    fetchChain: (payer) => (fromSeq, limit) => gateway(payer, vt)(fromSeq, limit),
    ...(restored ? { restored } : {}),
    onFork: (p, proof) => void forks.push({ payer: p, proof, atMs: vt.stopwatch.now() }),
    publish: async () => ({ stored: 1, refused: 0 }),
    find: async (p) => foundIn(dht, p, me.id),
  });
  return { vt, views, watch, dht, forks };
}

/** Ten minutes: a payer not cleared is looked at again and again meanwhile (every MIN_LOOK_INTERVAL_MS), within the others' sightings' hour. */
const TEN_MINUTES = 10 * 60_000;
/** Another payee's sighting of `block` (a SignedBlock of `payer`), put in the DHT. */
const sightedBy = (s: Setup, payer: Node, other: Node, block: Uint8Array, ttlMs = 60 * 60_000) => putSighting(s.dht, payer.id, other, block, s.vt.clock.now(), ttlMs);

/** `signed` with its signature replaced: same block bytes, so the same hash. */
const withSignature = (signed: Uint8Array, signature: Uint8Array) => SignedBlock.encode({ block: SignedBlock.decode(signed).block, signature }).finish();

/**
 * A payer's gateway that serves `chain()` honestly to reads that go on from what it served
 * before, and hands reads from below it (the watch's read backs, recognisable by their fromSeq)
 * to `back`.
 */
function forkingGateway(chain: () => Uint8Array[], nodeId: string, back: (from: number, limit: number, blocks: Uint8Array[], served: number) => Promise<ChainPage>): Gateway {
  let served = 0;
  return async (fromSeq, limit) => {
    const blocks = chain();
    const from = Number(fromSeq);
    if (from <= served) return back(from, limit, blocks, served);
    const page = blocks.slice(from - 1, from - 1 + Math.min(limit, 32));
    served = Math.max(served, from - 1 + page.length);
    return { blocks: page, headSeq: BigInt(blocks.length), nodeId };
  };
}

describe('ATTACK: a forking payer escapes the sighting watch', () => {
  const me = node();
  const otherPayee = node();
  const payer = spender(node(), 598);
  const head = Number(payer.head.seq);
  const forkSeq = 300;

  it('F1: read back served with a bad signature on the forked block is taken as "same", and that sighting is whitelisted for good', async () => {
    let honestNow = false;
    const gw = forkingGateway(
      () => payer.blocks,
      payer.id,
      async (from, limit, blocks) => {
        const page = blocks.slice(from - 1, from - 1 + Math.min(limit, 32));
        // The block at the fork seq is the one this node audited (same bytes, same hash): only its signature is junk.
        return { blocks: page.map((b, i) => (from + i === forkSeq && !honestNow ? withSignature(b, new Uint8Array(64)) : b)), headSeq: BigInt(blocks.length), nodeId: payer.id };
      },
    );
    const s = setup(me, () => gw);
    // The other payee was shown the other branch: its block at forkSeq is another one the payer signed.
    sightedBy(s, payer, otherPayee, otherBlockAt(payer, forkSeq));
    await readAndLook(s, payer);
    const afterFirst = { ...s.watch.stats(), forks: s.forks.length };
    // From now on the payer serves its read backs honestly: a second look would convict it ... if it compared.
    honestNow = true;
    await s.vt.advance(TEN_MINUTES);
    await s.watch.idle();
    // Expected: not counted "same" (the block shown has no valid signature), and the fork convicted once served properly.
    expect(afterFirst.consistent).toBe(0);
    expect(s.forks.map((f) => verifyForkProof(f.proof).seq)).toEqual([BigInt(forkSeq)]);
    s.watch.stop();
  });

  it('F2a: the payee with the higher head: a payer that declines read backs is never cleared, so none of its receipts is countersigned', async () => {
    const gw = forkingGateway(
      () => payer.blocks,
      payer.id,
      // A read back: nothing (or a timeout; or a page that does not link). No consequence.
      async (_from, _limit, blocks) => ({ blocks: [], headSeq: BigInt(blocks.length), nodeId: payer.id }),
    );
    const s = setup(me, () => gw);
    sightedBy(s, payer, otherPayee, otherBlockAt(payer, forkSeq));
    await readAndLook(s, payer);
    // Half an hour of looks (the other payee's sighting lives an hour here).
    for (let i = 0; i < 3; i += 1) {
      await s.vt.advance(TEN_MINUTES);
      await s.watch.idle();
    }
    // Not proven (the payer never showed its block there), but held: no head of it is cleared.
    expect({ forks: s.forks.length, cleared: s.watch.cleared(payer.id), asked: await s.watch.clear(payer.id, payer.head.seq, 1_000) }).toEqual({
      forks: 0,
      cleared: 0n,
      asked: false,
    });
    s.watch.stop();
  });

  it("F2b: the payee with the lower head: a payer that never reads it on to the other payee's seq is never cleared", async () => {
    // This node was shown branch A up to forkSeq (its block forkSeq differs); the other payee saw branch B up to the head.
    const branchA = [...payer.blocks.slice(0, forkSeq - 1), otherBlockAt(payer, forkSeq)];
    const gw = forkingGateway(
      () => branchA,
      payer.id,
      async (from, limit, blocks) => ({ blocks: blocks.slice(from - 1, from - 1 + limit), headSeq: BigInt(blocks.length), nodeId: payer.id }),
    );
    const s = setup(me, () => gw);
    sightedBy(s, payer, otherPayee, payer.blocks[head - 1]);
    await readAndLook(s, payer);
    for (let i = 0; i < 3; i += 1) {
      await s.vt.advance(TEN_MINUTES);
      await s.watch.idle();
    }
    expect({ forks: s.forks.length, cleared: s.watch.cleared(payer.id), asked: await s.watch.clear(payer.id, BigInt(forkSeq), 1_000) }).toEqual({
      forks: 0,
      cleared: 0n,
      asked: false,
    });
    s.watch.stop();
  });
});

/** A node whose public key is the Ed25519 identity point: the signature R = identity, S = 0 verifies for every message. */
function weakNode(): Node {
  const publicKey = new Uint8Array(32);
  publicKey[0] = 1;
  const sig = new Uint8Array(64);
  sig[0] = 1;
  const signer: ChainSigner = { publicKey, sign: () => sig };
  const g = createGenesis(signer, rules, START_MS);
  return { id: g.head.nodeId, signer, head: g.head, blocks: [...g.blocks], ids: new Set() };
}

describe('ATTACK: a small-order (identity) payer key defeats the consistency cache', () => {
  it('F3: every block of such a payer has one signature; once one sighting is found "same", every other (the fork included) is skipped unverified', async () => {
    const me = node();
    const sybil = node();
    const otherPayee = node();
    const payer = weakNode();
    pay(node(), payer, 100n, 'unlock');
    for (let i = 0; i < 20; i += 1) pay(payer, me, 1n, `t${i}`);
    const head = Number(payer.head.seq);
    const s = setup(me, () => async (fromSeq, limit) => {
      const from = Number(fromSeq);
      return { blocks: payer.blocks.slice(from - 1, from - 1 + Math.min(limit, 32)), headSeq: BigInt(payer.blocks.length), nodeId: payer.id };
    });
    // A sybil payee (or any honest one) sights the head this node audited: "same", its block's signature remembered.
    sightedBy(s, payer, sybil, payer.blocks[head - 1]);
    // The payee shown the other branch sights another block at the very head: a fork proof head to head.
    sightedBy(s, payer, otherPayee, otherBlockAt(payer, head));
    await readAndLook(s, payer);
    expect(s.forks.length).toBe(1);
    s.watch.stop();
  });
});

describe('ATTACK: slow read backs jam the watch for every payer', () => {
  it('F4: four payers whose gateways answer read backs one block per page, just inside the 2 s page timeout, keep a forking payer from being looked at for ~27 min (4 sybil sightings each; linear in them)', async () => {
    const me = node();
    const forkWitness = node();
    const jams = [0, 1, 2, 3].map(() => spender(node(), 256)); // heads at 258: a checkpoint at 256
    const sybils = [0, 1, 2, 3].map(() => node());
    const forking = spender(node(), 10);
    const byId = new Map([...jams, forking].map((n) => [n.id, n]));
    const gateways = new Map<string, Gateway>();
    const s = setup(me, (payer, vt) => {
      let gw = gateways.get(payer);
      if (gw) return gw;
      const n = byId.get(payer) as Node;
      gw = forkingGateway(
        () => n.blocks,
        n.id,
        // A read back: one block a page, after 1.9 s; the last one (the watch asks for 1 block there: limit = toSeq - from + 1) does not link, so the look ends 'later' and is made again.
        (from, limit, blocks) =>
          new Promise((resolve) =>
            vt.scheduler.setTimer(1_900, () =>
              resolve({ blocks: [limit === 1 ? withSignature(otherBlockAt(n, from), new Uint8Array(64)) : blocks[from - 1]], headSeq: BigInt(blocks.length), nodeId: n.id }),
            ),
          ),
      );
      gateways.set(payer, gw);
      return gw;
    });
    // Each jam payer has its sybils sight its own (honest) block 2: a read back of 255 blocks each.
    for (const j of jams) for (const sy of sybils) sightedBy(s, j, sy, j.blocks[1]);
    // The forking payer: another payee holds another block at its head.
    sightedBy(s, forking, forkWitness, otherBlockAt(forking, Number(forking.head.seq)));
    for (const j of jams) {
      await s.views.readOn(j.id);
      await s.views.idle();
    }
    await s.views.readOn(forking.id);
    await s.views.idle();
    const t0 = s.vt.stopwatch.now();
    // Half an hour, a second at a time.
    for (let i = 0; i < 30 * 60 && s.forks.length === 0; i += 1) await s.vt.advance(1_000);
    // Expected: convicted at its first look, ~5 s after its chain audited.
    expect(s.forks.length).toBe(1);
    expect(s.forks[0].atMs - t0).toBeLessThan(60_000);
    s.watch.stop();
  }, 120_000);
});

describe('ATTACK: anyone makes every payee of an honest payer read its chain back, outside any budget', () => {
  it('F5: 64 sybil "payees" (a PoW each, no relation to the payer) re-sighting old blocks of an honest payer make each look read back ~16,000 blocks', async () => {
    const me = node();
    const payer = spender(node(), 598);
    const sybils = Array.from({ length: 64 }, () => node());
    let readBackBlocks = 0;
    const gw: Gateway = async (fromSeq, limit) => {
      const page = payer.blocks.slice(Number(fromSeq) - 1, Number(fromSeq) - 1 + Math.min(limit, 32));
      readBackBlocks += page.length;
      return { blocks: page, headSeq: payer.head.seq, nodeId: payer.id };
    };
    // The view restored from the views file (no digests of the blocks below its head: a sighting
    // there is read back); every block served from then on is a read back.
    const first = setup(me, () => gw);
    await first.views.readOn(payer.id);
    await first.views.idle();
    first.watch.stop();
    const s = setup(me, () => gw, first.views.kept());
    readBackBlocks = 0;
    const perLook: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      // Each sybil sights a block of the honest chain just past a checkpoint (a read back of ~255 blocks), a new one each round (so never cached).
      sybils.forEach((sy, i) => sightedBy(s, payer, sy, payer.blocks[(i % 2 === 0 ? 1 : 257) + round * 64 + (i >> 1) - 1]));
      const before = readBackBlocks;
      s.watch.touched(payer.id);
      await s.vt.advance(MIN_LOOK_INTERVAL_MS);
      await s.watch.idle();
      perLook.push(readBackBlocks - before);
    }
    // Expected: a bounded read-back budget per look/payer (e.g. a few pages), charged like any read.
    // The first look read back (the two intervals the sightings fall in); what it read back needs no read again.
    expect({ most: Math.max(...perLook) < 1_000, firstRead: perLook[0] > 0 }).toEqual({ most: true, firstRead: true });
    s.watch.stop();
  }, 60_000);
});
