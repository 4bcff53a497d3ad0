/**
 * The sighting watch against real payer views (payer-views.ts) and real signed sightings, the DHT
 * a map: a payer that shows this node one branch and another payee another is convicted here, at
 * the head, below it (read back to a checkpoint) or just above it; honest sightings convict nobody.
 */
import type { ChainPage } from '@swarm/chain';
import { makeChainSighting, verifyForkProof } from '@swarm/chain';
import type { ForkProof } from '@swarm/contracts';
import { ChainBlock, ChainSighting, ErrorCode, SignedBlock, SignedChainSighting, SwarmError } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { Anchor, KeptView, PayerViews } from './payer-views';
import type { FoundSightings } from './sighting-publisher';
import { REFRESH_MS, REPUBLISH_IN_FLIGHT, REPUBLISH_RETRY_MS } from './sighting-publisher';
import type { SightingWatch } from './sighting-watch';
import { MIN_LOOK_INTERVAL_MS } from './sighting-watch';
import type { Node } from './test-fixtures/chains';
import { node, resigned, spender, START_MS } from './test-fixtures/chains';
import { foundIn, otherBlockAt, putSighting, readAndLook, startViewsAndWatch, storeIn } from './test-fixtures/sightings';

/** A chain this long has checkpoints at 256 and 512. */
const PAYMENTS = 598;

interface Setup {
  readonly vt: VirtualTime;
  readonly views: PayerViews;
  readonly watch: SightingWatch;
  /** The DHT: sightings by payer, then payee. */
  readonly dht: Map<string, Map<string, SignedChainSighting>>;
  readonly forks: Array<{ payer: string; proof: ForkProof }>;
  /** Pages asked, from seq. */
  readonly fetched: bigint[];
  /** Stores in the DHT going on now, and the most at once. */
  readonly storing: { now: number; most: number };
  /** What every lookup answers besides the sightings from now on (undefined: as the DHT map has it). */
  lookupSays(over: Partial<FoundSightings> | undefined): void;
  /** How many DHT nodes refuse each store from now on (one always takes it). */
  storesAnswer(against: { readonly refused: number; readonly unreachable: number }): void;
  failDht(on: boolean): void;
}

interface SetupOptions {
  readonly readBacksPerLook?: number;
  /** Views, and anchors of forgotten ones, the views file brought back. */
  readonly restored?: KeptView[];
  readonly anchors?: ReadonlyArray<readonly [string, Anchor]>;
  /** How long a store in the DHT takes (virtual ms); 0 by default. */
  readonly publishMs?: number;
}

/** This node (`me`) reading `payer`'s chain as `shown` serves it. */
function setup(me: Node, payer: Node, shown: () => Uint8Array[], opts: SetupOptions = {}): Setup {
  const { readBacksPerLook, restored, anchors, publishMs = 0 } = opts;
  const vt = virtualTime(START_MS + 10_000);
  const dht = new Map<string, Map<string, SignedChainSighting>>();
  const forks: Setup['forks'] = [];
  const fetched: bigint[] = [];
  let dhtDown = false;
  let says: Partial<FoundSightings> | undefined;
  let against = { refused: 0, unreachable: 0 };
  const storing = { now: 0, most: 0 };
  const fetchChain =
    () =>
    async (fromSeq: bigint, limit: number): Promise<ChainPage> => {
      fetched.push(fromSeq);
      const blocks = shown();
      const from = Number(fromSeq) - 1;
      return { blocks: blocks.slice(from, from + Math.min(limit, 32)), headSeq: BigInt(blocks.length), nodeId: payer.id };
    };
  const { views, watch } = startViewsAndWatch(me, vt, {
    fetchChain,
    ...(restored ? { restored } : {}),
    ...(anchors ? { anchors } : {}),
    ...(readBacksPerLook === undefined ? {} : { readBacksPerLook }),
    onFork: (p, proof) => void forks.push({ payer: p, proof }),
    publish: async (s) => {
      if (dhtDown) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the DHT is down (test)', true);
      storing.now += 1;
      storing.most = Math.max(storing.most, storing.now);
      if (publishMs > 0) await new Promise<void>((resolve) => vt.scheduler.setTimer(publishMs, resolve));
      storing.now -= 1;
      storeIn(dht, s);
      return { stored: 1, ...against };
    },
    find: async (p) => {
      if (dhtDown) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the DHT is down (test)', true);
      return { ...foundIn(dht, p, me.id), ...says };
    },
  });
  return { vt, views, watch, dht, forks, fetched, storing, failDht: (on) => (dhtDown = on), lookupSays: (over) => (says = over), storesAnswer: (a) => (against = a) };
}

/** The payer's SignedBlock a sighting carries. */
function payerBlockOf(s: SignedChainSighting): Uint8Array {
  const { payerBlock } = ChainSighting.decode(s.sighting);
  return payerBlock ? SignedBlock.encode(payerBlock).finish() : new Uint8Array();
}

/** Another payee's sighting of `block` (a SignedBlock of the payer), put in the DHT. */
const sightedBy = (s: Setup, payer: Node, other: Node, block: Uint8Array) => putSighting(s.dht, payer.id, other, block, s.vt.clock.now(), 60_000);

/** Reads the payer's chain to its head and lets every look it started end. */
async function settled(s: Setup, payer: Node): Promise<void> {
  await readAndLook(s, payer);
  await s.vt.advance(MIN_LOOK_INTERVAL_MS);
  await s.watch.idle();
}

/** The payer's chain audited by a node before a restart, as its views file gives it back. */
async function keptViewOf(payer: Node): Promise<KeptView[]> {
  const before = setup(node(), payer, () => payer.blocks);
  await settled(before, payer);
  before.watch.stop();
  return before.views.kept();
}

describe('sighting watch - payees compare what their payer showed them', () => {
  const me = node();
  const otherPayee = node();
  const payer = spender(node(), PAYMENTS);
  const head = Number(payer.head.seq);

  it('publishes its own sighting of the head it audited, and convicts nobody on honest sightings', async () => {
    const s = setup(me, payer, () => payer.blocks);
    sightedBy(s, payer, otherPayee, payer.blocks[head - 1]);
    await readAndLook(s, payer);
    const mine = s.dht.get(payer.id)?.get(me.id);
    expect(mine && ChainBlock.decode(SignedBlock.decode(payerBlockOf(mine)).block).seq).toBe(payer.head.seq);
    expect(s.forks).toEqual([]);
    // Published again as the read went on (each look signs the head audited by then).
    expect(s.watch.stats()).toMatchObject({ consistent: 1, forks: 0, failed: 0 });
    expect(s.watch.stats().published).toBeGreaterThanOrEqual(1);
    // A clean look cleared the head: its receipts may be countersigned (payer-views' check).
    expect({ cleared: s.watch.cleared(payer.id), asked: await s.watch.clear(payer.id, payer.head.seq, 1_000) }).toEqual({ cleared: payer.head.seq, asked: true });
    s.watch.stop();
  });

  it('convicts a payer that showed another payee another block of the head this node audited', async () => {
    const s = setup(me, payer, () => payer.blocks);
    sightedBy(s, payer, otherPayee, otherBlockAt(payer, head));
    await readAndLook(s, payer);
    expect(s.forks.map((f) => [f.payer, verifyForkProof(f.proof)])).toEqual([[payer.id, { nodeId: payer.id, seq: payer.head.seq }]]);
    expect({ audited: s.views.audited(payer.id), asked: await s.watch.clear(payer.id, payer.head.seq, 1_000) }).toEqual({ audited: undefined, asked: false });
    // Its sighting is signed again while the conviction is kept: later payees still compare with it (helper-154).
    const published = s.watch.stats().published;
    await s.vt.advance(REFRESH_MS);
    await s.watch.idle();
    expect(s.watch.stats().published).toBe(published + 1);
    expect(s.watch.stats()).toMatchObject({ forks: 1 });
    s.watch.stop();
  });

  it('compares a sighting below its head by the hash it audited there, with no read; another block there is read back and convicts', async () => {
    const seq = 300;
    const honest = setup(me, payer, () => payer.blocks);
    await settled(honest, payer);
    sightedBy(honest, payer, otherPayee, payer.blocks[seq - 1]);
    const fetched = honest.fetched.length;
    honest.watch.touched(payer.id);
    await honest.watch.idle();
    expect({ forks: honest.forks.length, consistent: honest.watch.stats().consistent, pages: honest.fetched.length - fetched }).toEqual({ forks: 0, consistent: 1, pages: 0 });
    honest.watch.stop();

    const forked = setup(me, payer, () => payer.blocks);
    sightedBy(forked, payer, otherPayee, otherBlockAt(payer, seq));
    await readAndLook(forked, payer);
    expect(forked.forks.map((f) => verifyForkProof(f.proof))).toEqual([{ nodeId: payer.id, seq: BigInt(seq) }]);
    forked.watch.stop();
  });

  it('reads back to the checkpoint above a sighting below the head a view restored from the file recorded no hash for', async () => {
    const seq = 300;
    const s = setup(me, payer, () => payer.blocks, { restored: await keptViewOf(payer) });
    sightedBy(s, payer, otherPayee, payer.blocks[seq - 1]);
    const fetched = s.fetched.length;
    s.watch.touched(payer.id);
    await s.watch.idle();
    // The interval holding 300 (257 to the checkpoint at 512): 8 pages of 32 blocks.
    expect({ forks: s.forks.length, consistent: s.watch.stats().consistent }).toEqual({ forks: 0, consistent: 1 });
    expect(s.fetched.slice(fetched)).toEqual([257n, 289n, 321n, 353n, 385n, 417n, 449n, 481n]);
    s.watch.stop();
  });

  it('after a restart, never publishes below the sighting it had published before (its views file may be older)', async () => {
    const first = setup(me, payer, () => payer.blocks);
    await settled(first, payer);
    first.watch.stop();
    // A restart: the views file held the chain up to 400 only; the DHT still holds its sighting of the head.
    const older = setup(me, payer, () => payer.blocks.slice(0, 400));
    for (const [p, slots] of first.dht) older.dht.set(p, new Map(slots));
    await readAndLook(older, payer);
    const mine = older.dht.get(payer.id)?.get(me.id);
    expect(mine && ChainBlock.decode(SignedBlock.decode(payerBlockOf(mine)).block).seq).toBe(payer.head.seq);
    older.watch.stop();
  });

  it('reads on when another payee saw further, then compares; a block right after the head naming another before it convicts at once', async () => {
    // This node is shown the chain up to 400; the other payee saw block 450 of the same chain.
    let shownUpTo = 400;
    const s = setup(me, payer, () => payer.blocks.slice(0, shownUpTo));
    sightedBy(s, payer, otherPayee, payer.blocks[449]);
    await readAndLook(s, payer);
    expect(s.watch.stats().consistent).toBe(0);
    shownUpTo = head;
    await readAndLook(s, payer);
    await s.vt.advance(MIN_LOOK_INTERVAL_MS);
    await s.watch.idle();
    expect({ forks: s.forks.length, consistent: s.watch.stats().consistent }).toEqual({ forks: 0, consistent: 1 });
    s.watch.stop();

    const linked = setup(me, payer, () => payer.blocks.slice(0, 400));
    const namesAnother = resigned(payer.blocks[400], payer.signer, (b) => void (b.prevHash = new Uint8Array(32).fill(4)));
    sightedBy(linked, payer, otherPayee, namesAnother);
    await readAndLook(linked, payer);
    expect(linked.forks.map((f) => verifyForkProof(f.proof))).toEqual([{ nodeId: payer.id, seq: 400n }]);
    linked.watch.stop();
  });

  it('reads back one interval for every sighting in it, at most readBacksPerLook intervals a look, the rest at the next looks', async () => {
    // A view restored from the file: blocks below its head are read back.
    const s = setup(me, payer, () => payer.blocks, { readBacksPerLook: 1, restored: await keptViewOf(payer) });
    // Two sightings in each of the two intervals below the head (1-256, 257-512), the higher first.
    for (const seq of [200, 100, 456, 356]) sightedBy(s, payer, node(), payer.blocks[seq - 1]);
    const [looks, fetched] = [s.watch.stats().looks, s.fetched.length];
    s.watch.touched(payer.id);
    await s.watch.idle();
    // One interval read back (8 pages): its first sighting compared, the second then known the same
    // with no read; the other interval left for the next look.
    expect({ looks: s.watch.stats().looks - looks, consistent: s.watch.stats().consistent, pages: s.fetched.length - fetched }).toEqual({ looks: 1, consistent: 1, pages: 8 });
    await s.vt.advance(MIN_LOOK_INTERVAL_MS);
    await s.watch.idle();
    expect({ stats: s.watch.stats(), pages: s.fetched.length - fetched }).toMatchObject({ stats: { looks: looks + 2, consistent: 2, forks: 0 }, pages: 16 });
    s.watch.stop();
  });

  it('clears no head of a payer while its sighting is held by too few holders heard or stored by too few nodes (their slots filled by made-up payees), or the answer left some out', async () => {
    // Held by no holder heard, by one of two (the payer's echo), stored by one node of the four it
    // went to (the others' keys filled: helper-158) or of three (two not answering: helper-159), or
    // the answer cut short.
    const cases: Array<Partial<FoundSightings> & { against?: { refused: number; unreachable: number } }> = [
      { ownHeldSeqs: [0n] },
      { ownHeldSeqs: [0n, payer.head.seq] },
      { against: { refused: 3, unreachable: 0 } },
      { against: { refused: 0, unreachable: 2 } },
      { truncated: true },
    ];
    for (const { against, ...says } of cases) {
      const s = setup(me, payer, () => payer.blocks);
      s.storesAnswer(against ?? { refused: 0, unreachable: 0 });
      s.lookupSays(says);
      await settled(s, payer);
      // Honest sightings only, its own published (another holder took it): still not cleared, its receipts wait.
      expect({ says, cleared: s.watch.cleared(payer.id), asked: await s.watch.clear(payer.id, payer.head.seq, 1_000) }).toEqual({ says, cleared: 0n, asked: false });
      const published = s.watch.stats().published;
      s.lookupSays(undefined);
      s.storesAnswer({ refused: 0, unreachable: 0 });
      expect(await s.watch.clear(payer.id, payer.head.seq, 1_000)).toBe(true);
      // Not held where it was published: signed again at the next look, though not an hour old.
      expect(s.watch.stats().published - published).toBe(says.truncated ? 0 : 1);
      s.watch.stop();
    }
  });

  it('after a start, signs again the sighting of every payer the views file kept, a few at a time beside the looks, and again those the DHT did not take', async () => {
    // Ten forgotten views (their anchors) and one view, as the views file brings them back.
    const forgotten = Array.from({ length: 10 }, () => spender(node(), 2));
    const anchors = forgotten.map((p) => [p.id, { seq: p.head.seq, block: p.blocks[p.blocks.length - 1] }] as const);
    const s = setup(me, payer, () => payer.blocks, { restored: await keptViewOf(payer), anchors, publishMs: 100 });
    const payers = [payer, ...forgotten];
    s.failDht(true);
    s.watch.republish(payers.map((p) => p.id));
    await s.watch.idle();
    expect(s.watch.stats()).toMatchObject({ published: 0, toRepublish: payers.length, looks: 0 });
    // The DHT back: all of them at the next retry, REPUBLISH_IN_FLIGHT stores at once.
    s.failDht(false);
    await s.vt.advance(REPUBLISH_RETRY_MS);
    for (let i = 0; i < payers.length && s.watch.stats().toRepublish > 0; i += 1) await s.vt.advance(100);
    await s.watch.idle();
    const sightedSeq = (p: Node) => {
      const mine = s.dht.get(p.id)?.get(me.id);
      return mine && ChainBlock.decode(SignedBlock.decode(payerBlockOf(mine)).block).seq;
    };
    expect(payers.map(sightedSeq)).toEqual(payers.map((p) => p.head.seq));
    expect({ stats: s.watch.stats(), most: s.storing.most }).toMatchObject({ stats: { published: payers.length, toRepublish: 0, looks: 0, forks: 0 }, most: REPUBLISH_IN_FLIGHT });
    // Before they expire (signed again once REFRESH_MS old, looked for every REFRESH_MS), the anchors
    // are signed again with no look; the view is looked at.
    const published = s.watch.stats().published;
    for (const _ of [1, 2]) {
      await s.vt.advance(REFRESH_MS);
      for (let i = 0; i < payers.length && s.watch.stats().toRepublish > 0; i += 1) await s.vt.advance(100);
      await s.watch.idle();
    }
    expect(s.watch.stats()).toMatchObject({ published: published + payers.length, looks: 2, toRepublish: 0 });
    s.watch.stop();
  });

  it('ignores sightings that do not check out, and counts a DHT it cannot reach without convicting anyone', async () => {
    const s = setup(me, payer, () => payer.blocks);
    const forged = SignedChainSighting.decode(makeChainSighting(otherPayee.signer, otherBlockAt(payer, head), { atMs: s.vt.clock.now(), ttlMs: 60_000 }));
    s.dht.set(payer.id, new Map([[otherPayee.id, { ...forged, signature: new Uint8Array(64).fill(1) }]]));
    await readAndLook(s, payer);
    expect({ forks: s.forks.length, stats: s.watch.stats() }).toMatchObject({ forks: 0, stats: { consistent: 0, failed: 0 } });
    s.failDht(true);
    await s.vt.advance(REFRESH_MS);
    await s.watch.idle();
    expect({ forks: s.watch.stats().forks, failed: s.watch.stats().failed > 0 }).toEqual({ forks: 0, failed: true });
    s.watch.stop();
  });
});
