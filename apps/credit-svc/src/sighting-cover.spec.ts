/**
 * Covers (docs/chain.md "Sightings"): a payee lets its slot in a payer's key go while another
 * payee's sighting of its branch, as high or higher, held by most of the holders heard, lives on
 * past the next looks; so a payer's payees do not keep the key's 256 slots for ever. The DHT is a
 * map with one holder; the payer's chain is read from a real payer view.
 */
import type { ChainPage } from '@swarm/chain';
import type { SignedChainSighting } from '@swarm/contracts';
import { ChainBlock, ChainSighting } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { PayerViews } from './payer-views';
import type { FoundSightings } from './sighting-publisher';
import { COVER_MARGIN_MS, REFRESH_MS, SIGHTING_TTL_MS } from './sighting-publisher';
import type { SightingWatch } from './sighting-watch';
import type { Node } from './test-fixtures/chains';
import { node, pay, spender, START_MS } from './test-fixtures/chains';
import { foundIn, putSighting, readAndLook, startViewsAndWatch, storeIn } from './test-fixtures/sightings';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Setup {
  readonly vt: VirtualTime;
  readonly views: PayerViews;
  readonly watch: SightingWatch;
  readonly dht: Map<string, Map<string, SignedChainSighting>>;
  /** Each lookup's answer changed by this (the holders heard, what each sighting is held by). */
  answer: (found: FoundSightings) => FoundSightings;
}

function setup(me: Node, payer: Node): Setup {
  const vt = virtualTime(START_MS + 10_000);
  const dht = new Map<string, Map<string, SignedChainSighting>>();
  const fetchChain =
    () =>
    async (fromSeq: bigint, limit: number): Promise<ChainPage> => {
      const from = Number(fromSeq) - 1;
      return { blocks: payer.blocks.slice(from, from + limit), headSeq: BigInt(payer.blocks.length), nodeId: payer.id };
    };
  const s: Setup = {
    vt,
    dht,
    answer: (found) => found,
    ...startViewsAndWatch(me, vt, {
      fetchChain,
      hold: true,
      publish: async (sighting) => {
        storeIn(dht, sighting);
        return { stored: 1, refused: 0 };
      },
      find: async (p) => s.answer(foundIn(dht, p, me.id)),
    }),
  };
  return s;
}

/** Two payees, `low` with the lower id. */
function twoPayees(): { low: Node; high: Node } {
  const [a, b] = [node(), node()];
  return a.id < b.id ? { low: a, high: b } : { low: b, high: a };
}

/** Until when `payee`'s sighting of `payer` in the DHT lives (0: none). */
const livesUntil = (s: Setup, payer: Node, payee: Node) => {
  const held = s.dht.get(payer.id)?.get(payee.id);
  return held ? Number(ChainSighting.decode(held.sighting).expiresAtMs) : 0;
};

/** Moves virtual time on `ms`, a minute at a time, calling `each` after every minute. */
async function run(s: Setup, ms: number, each: () => void = () => undefined): Promise<void> {
  for (let t = 0; t < ms; t += MINUTE) {
    await s.vt.advance(MINUTE);
    await s.watch.idle();
    each();
  }
}

const headOf = (payer: Node) => payer.blocks[payer.blocks.length - 1];

/** The seq of `payee`'s sighting of `payer` in the DHT. */
const seqIn = (s: Setup, payer: Node, payee: Node) => {
  const held = s.dht.get(payer.id)?.get(payee.id);
  return held && ChainBlock.decode(ChainSighting.decode(held.sighting).payerBlock!.block).seq;
};

describe('sighting covers: letting a payer key slot go', () => {
  it("lets its slot go while a lower payee id's sighting of its head lives past the margin, and signs its own again before that one expires: never a minute with neither live", async () => {
    const { low, high } = twoPayees();
    const payer = spender(node(), 3);
    const s = setup(high, payer);
    // The other payee's sighting of the head, signed now for 6 h and never again (its payee gone).
    putSighting(s.dht, payer.id, low, headOf(payer), s.vt.clock.now(), SIGHTING_TTL_MS);
    await readAndLook(s, payer);
    expect(s.watch.stats()).toMatchObject({ published: 1, covered: 0, forks: 0 });
    const publishedAt: number[] = [];
    let lastUntil = livesUntil(s, payer, high);
    let gaps = 0;
    await run(s, 12 * HOUR, () => {
      const until = livesUntil(s, payer, high);
      if (until !== lastUntil) publishedAt.push(s.vt.clock.now());
      lastUntil = until;
      const now = s.vt.clock.now();
      if (livesUntil(s, payer, high) <= now && livesUntil(s, payer, low) <= now) gaps += 1;
    });
    // Let go at the hourly looks while the other lives more than 2 h on; signed again once it does not.
    expect(s.watch.stats().covered).toBeGreaterThanOrEqual(2);
    expect(publishedAt.length).toBeGreaterThanOrEqual(1);
    // Signed again at the look when the other's had under the margin left: over an hour before it expired.
    expect(publishedAt[0] - (START_MS + 10_000)).toBeGreaterThanOrEqual(SIGHTING_TTL_MS - COVER_MARGIN_MS - REFRESH_MS);
    expect(publishedAt[0] - (START_MS + 10_000)).toBeLessThanOrEqual(SIGHTING_TTL_MS - (COVER_MARGIN_MS - REFRESH_MS));
    expect(gaps).toBe(0);
    s.watch.stop();
  });

  it('keeps signing its own hourly where the other payee has the higher id (of payees of one block, the lowest keeps its own)', async () => {
    const { low, high } = twoPayees();
    const payer = spender(node(), 3);
    const s = setup(low, payer);
    putSighting(s.dht, payer.id, high, headOf(payer), s.vt.clock.now(), SIGHTING_TTL_MS);
    await readAndLook(s, payer);
    await run(s, 3 * HOUR + MINUTE);
    expect(s.watch.stats()).toMatchObject({ covered: 0 });
    expect(livesUntil(s, payer, low) - s.vt.clock.now()).toBeGreaterThan(SIGHTING_TTL_MS - REFRESH_MS - MINUTE);
    s.watch.stop();
  });

  it('takes no cover from a sighting held by too few of the holders heard (one echoing node), nor from one of another block', async () => {
    const { low, high } = twoPayees();
    const payer = spender(node(), 3);
    const s = setup(high, payer);
    putSighting(s.dht, payer.id, low, headOf(payer), s.vt.clock.now(), SIGHTING_TTL_MS);
    // Four holders heard, each holding this node's sighting; the other's held by one of them.
    s.answer = (found) => ({ ...found, ownHeldSeqs: [1, 2, 3, 4].map(() => found.ownHeldSeqs[0] ?? 0n), heldBy: found.sightings.map(() => 1) });
    await readAndLook(s, payer);
    await run(s, 3 * HOUR + MINUTE);
    expect(s.watch.stats()).toMatchObject({ covered: 0 });

    // A sighting of a block below the head is no cover for the head.
    const t = setup(high, payer);
    putSighting(t.dht, payer.id, low, payer.blocks[payer.blocks.length - 2], t.vt.clock.now(), SIGHTING_TTL_MS);
    await readAndLook(t, payer);
    await run(t, 3 * HOUR + MINUTE);
    expect(t.watch.stats()).toMatchObject({ covered: 0, forks: 0 });
    s.watch.stop();
    t.watch.stop();
  });

  it('signs its own of the head for a receipt, though a cover stands for it: a receipt clears on this node’s own sighting, never on a cover', async () => {
    const { low, high } = twoPayees();
    const payer = spender(node(), 3);
    const s = setup(high, payer);
    putSighting(s.dht, payer.id, low, headOf(payer), s.vt.clock.now(), SIGHTING_TTL_MS);
    await readAndLook(s, payer);
    // The payer pays on; the other payee sees the new head first. This node's hourly look reads on to it and lets its slot go.
    pay(payer, node(), 1n, 'later');
    putSighting(s.dht, payer.id, low, headOf(payer), s.vt.clock.now(), SIGHTING_TTL_MS);
    await run(s, HOUR + MINUTE);
    expect(s.watch.stats().covered).toBeGreaterThanOrEqual(1);
    expect(seqIn(s, payer, high)).toBe(payer.head.seq - 1n);
    // A receipt pledged in the new head: cleared only once this node's own sighting of it is out.
    expect(await s.watch.clear(payer.id, payer.head.seq, 30_000)).toBe(true);
    expect(seqIn(s, payer, high)).toBe(payer.head.seq);
    s.watch.stop();
  });
});
