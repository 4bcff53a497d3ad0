/**
 * helper-161's attack on covers (3d4519f, reverted): a payee let its own sighting lapse while another
 * payee's sighting of its head stood for it, and a payer's made-up payee (its id ground low) moved
 * its slot to the other branch once the honest one had lapsed, so a second payee countersigned the
 * same credit. What this checks, covers or not: a payee keeps re-signing its own sighting while it
 * keeps the payer's view, however long a made-up payee keeps a sighting of the same head beside it,
 * so the payee shown the other branch later finds it and refuses. Real payer views and sighting
 * watches wired as service.ts wires them under SWARM_CREDIT_SIGHTINGS=hold; the DHT is a map every
 * payee shares that keeps the rank rule and returns only live records, as the registry does.
 */
import type { ChainPage } from '@swarm/chain';
import { makeChainSighting } from '@swarm/chain';
import { ChainBlock, ChainSighting, SignedChainSighting } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { PayerViews, PayerViewsDeps } from './payer-views';
import type { FoundSightings } from './sighting-publisher';
import { SIGHTING_TTL_MS } from './sighting-publisher';
import type { SightingWatch } from './sighting-watch';
import type { Node } from './test-fixtures/chains';
import { accept, forkedPayer } from './test-fixtures/branches';
import { node, START_MS } from './test-fixtures/chains';
import { startViewsAndWatch } from './test-fixtures/sightings';

const MINUTE = 60_000;

type Dht = Map<string, Map<string, SignedChainSighting>>;

const facts = (s: SignedChainSighting) => {
  const c = ChainSighting.decode(s.sighting);
  return { payer: c.payerId, payee: c.payeeId, seq: ChainBlock.decode(c.payerBlock!.block).seq, issued: Number(c.issuedAtMs), expires: Number(c.expiresAtMs) };
};

/** A store under the rank rule (libs/dht provider-store.ts put, for a ranked record): whether it was taken. */
function store(dht: Dht, s: SignedChainSighting, nowMs: number): boolean {
  const f = facts(s);
  const slots = dht.get(f.payer) ?? new Map<string, SignedChainSighting>();
  const held = slots.get(f.payee);
  if (held !== undefined && facts(held).expires > nowMs) {
    const h = facts(held);
    if (f.issued <= h.issued || f.seq < h.seq || f.expires < h.expires) return false;
  }
  slots.set(f.payee, s);
  dht.set(f.payer, slots);
  return true;
}

/** What a lookup finds (one other holder, holding every live slot), as registry-svc answers it. */
function find(dht: Dht, payer: string, me: string, nowMs: number): FoundSightings {
  const live = [...(dht.get(payer)?.values() ?? [])].filter((s) => facts(s).expires > nowMs);
  const own = live.find((s) => facts(s).payee === me);
  return { sightings: live, ownHeldSeqs: [own ? facts(own).seq : 0n], truncated: false, ...(own ? { own } : {}) };
}

interface Payee {
  readonly me: Node;
  readonly views: PayerViews;
  readonly watch: SightingWatch;
}

function payee(me: Node, vt: VirtualTime, dht: Dht, chain: () => Uint8Array[], payerId: string, limits?: PayerViewsDeps['limits'], others?: Map<string, Node>): Payee {
  const fetchChain =
    (p: string) =>
    async (fromSeq: bigint, limit: number): Promise<ChainPage> => {
      const other = others?.get(p);
      const blocks = other ? other.blocks : chain();
      const from = Number(fromSeq) - 1;
      return { blocks: blocks.slice(from, from + Math.min(limit, 32)), headSeq: BigInt(blocks.length), nodeId: other ? p : payerId };
    };
  const { views, watch } = startViewsAndWatch(me, vt, {
    fetchChain,
    ...(limits ? { limits } : {}),
    hold: true,
    publish: async (s) => (store(dht, s, vt.clock.now()) ? { stored: 3, refused: 0 } : { stored: 0, refused: 3 }),
    find: async (p) => find(dht, p, me.id, vt.clock.now()),
  });
  return { me, views, watch };
}

/** A made-up payee of the payer's, its id ground below `than` (one try in two). */
function sybilBelow(than: string): Node {
  for (;;) {
    const n = node();
    if (n.id < than) return n;
  }
}

/** `who`'s sighting of `block`, signed now for 6 h, stored under the rank rule. */
const sight = (vt: VirtualTime, dht: Dht, who: Node, block: Uint8Array): boolean =>
  store(dht, SignedChainSighting.decode(makeChainSighting(who.signer, block, { atMs: vt.clock.now(), ttlMs: SIGHTING_TTL_MS })), vt.clock.now());

describe("ATTACK (helper-161): a payer's made-up payee keeping a sighting of an honest payee's head", () => {
  it('does not make the payee let its own lapse: its slot moved to the other branch later, the second payee shown that branch is refused', async () => {
    const vt = virtualTime(START_MS + 10_000);
    const dht: Dht = new Map();
    const { meA, meB, payer, branchA, branchB, toA, toB } = forkedPayer();
    const headA = branchA.blocks[branchA.blocks.length - 1];
    const headB = branchB.blocks[branchB.blocks.length - 1];
    const a = payee(meA, vt, dht, () => branchA.blocks, payer.id);
    const b = payee(meB, vt, dht, () => branchB.blocks, payer.id);
    const m = sybilBelow(meA.id);

    expect(await accept(vt, a, payer, toA)).toBe('countersigned');
    // The payer's made-up payee M: a sighting of A's head (the very block A audited), signed again every hour for 8 h.
    expect(sight(vt, dht, m, headA)).toBe(true);
    for (let h = 0; h < 8; h += 1) {
      for (let i = 0; i < 60; i += 1) {
        await vt.advance(MINUTE);
        await a.watch.idle();
      }
      sight(vt, dht, m, headA);
    }
    const aLive = [...(dht.get(payer.id)?.values() ?? [])].some((s) => facts(s).payee === meA.id && facts(s).expires > vt.clock.now());
    // The switch: M's slot now shows branch B's block of the same seq (a later expiry: the rank rule takes it).
    await vt.advance(1_000);
    expect(sight(vt, dht, m, headB)).toBe(true);
    // A kept its own alive: B reads it, finds the other block of that seq, and refuses.
    expect({ aLive, b: await accept(vt, b, payer, toB) }).toEqual({ aLive: true, b: expect.not.stringMatching(/countersigned/) });
    a.watch.stop();
    b.watch.stop();
  }, 60_000);
});
