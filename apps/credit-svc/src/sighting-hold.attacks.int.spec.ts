/**
 * A second reviewer's attacks on the hold (9babbf4): real payer views (payer-views.ts) with the
 * sightings gate as service.ts wires it, the real watch (sighting-watch.ts), real signed sightings;
 * only the DHT (a map every payee shares) and the payer's gateway (a function the payer controls)
 * are stand-ins. Each test states what should hold; each fails on 9babbf4.
 */
import type { ChainPage } from '@swarm/chain';
import type { SignedChainSighting } from '@swarm/contracts';
import { ChainBlock, ChainSighting, ErrorCode, SwarmError } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { PayerViews, PayerViewsDeps } from './payer-views';
import { MAX_REMEMBERED_IDS, MAX_CHAIN_WEIGHT, startPayerViews } from './payer-views';
import { decodePayerViews, encodePayerViews } from './payer-view-file';
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import type { SightingWatch } from './sighting-watch';
import type { Node } from './test-fixtures/chains';
import type { Asked } from './test-fixtures/branches';
import { accept, forkedPayer, pledge, settle } from './test-fixtures/branches';
import { node, rules, spender, START_MS } from './test-fixtures/chains';
import { foundIn, putSighting, startViewsAndWatch, storeIn } from './test-fixtures/sightings';

type Dht = Map<string, Map<string, SignedChainSighting>>;
type Gateway = (fromSeq: bigint, limit: number) => Promise<ChainPage>;

interface Payee {
  readonly me: Node;
  readonly views: PayerViews;
  readonly watch: SightingWatch;
}

/** A credit-svc's payer views and watch, wired as service.ts wires them under SWARM_CREDIT_SIGHTINGS=hold. */
function payee(
  me: Node,
  vt: VirtualTime,
  dht: Dht,
  gateway: (payer: string) => Gateway,
  opts: { limits?: PayerViewsDeps['limits']; findMs?: number; publishMs?: number; restored?: PayerViewsDeps['restored'] } = {},
): Payee {
  const fetchChain = (payer: string) => (fromSeq: bigint, limit: number) => gateway(payer)(fromSeq, limit);
  const wait = (ms = 0) => (ms > 0 ? new Promise<void>((r) => vt.scheduler.setTimer(ms, r)) : Promise.resolve());
  const { views, watch } = startViewsAndWatch(me, vt, {
    fetchChain,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.restored ? { restored: opts.restored } : {}),
    hold: true,
    publish: async (s) => {
      await wait(opts.publishMs);
      storeIn(dht, s);
      return { stored: 3, refused: 0 };
    },
    find: async (p) => {
      const found = foundIn(dht, p, me.id);
      await wait(opts.findMs);
      return found;
    },
  });
  return { me, views, watch };
}

/** The seq of the block in `payee`'s sighting of `payer` in the DHT. */
function slotSeq(dht: Dht, payer: string, payee: string): bigint | undefined {
  const slot = dht.get(payer)?.get(payee);
  const block = slot ? ChainSighting.decode(slot.sighting).payerBlock?.block : undefined;
  return block ? ChainBlock.decode(block).seq : undefined;
}

/** A gateway serving `chain()` page by page (32 blocks at most). */
const honest =
  (chain: () => Uint8Array[], nodeId: string): Gateway =>
  async (fromSeq, limit) => {
    const blocks = chain();
    const from = Number(fromSeq) - 1;
    return { blocks: blocks.slice(from, from + Math.min(limit, 32)), headSeq: BigInt(blocks.length), nodeId };
  };

describe('ATTACK (hold): two payees shown two branches both countersign the same credit', () => {
  it.each(['none (control)', 'regress', 'expire'])(
    "H1 (%s): the payer has payee A forget its view (regress: and read it again from genesis, so that A's next look publishes its sighting of block 1 in place of the pledge's; expire: and waits 31 min, A's sighting no longer signed again); payee B, shown the other branch, then clears",
    async (mode) => {
      const vt = virtualTime(START_MS + 10_000);
      const dht: Dht = new Map();
      const { meA, meB, payer, branchA, branchB, toA, toB } = forkedPayer();

      // A's gateway to the payer: honest branch A, but once told to (after A forgot the view), a read
      // from genesis gets block 1 and then "wait" (the payer's node may ask a reader to wait, payer-views.ts).
      let stall = false;
      const gatewayA: Gateway = async (fromSeq, limit) => {
        if (stall && fromSeq > 1n) throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy', true, { retryAfterMs: 60_000 });
        if (stall) return { blocks: branchA.blocks.slice(0, 1), headSeq: BigInt(branchA.blocks.length), nodeId: payer.id };
        return honest(() => branchA.blocks, payer.id)(fromSeq, limit);
      };
      // Payers A keeps views of (views: 2 here, MAX_VIEWS = 1,024 in a node): a view of fewest blocks is forgotten first.
      const sybils = [spender(node(), 6), spender(node(), 6)];
      const chains = new Map(sybils.map((s) => [s.id, s]));
      const a = payee(meA, vt, dht, (p) => (p === payer.id ? gatewayA : honest(() => (chains.get(p) as Node).blocks, p)), {
        limits: { maxViews: 2, maxRememberedIds: MAX_REMEMBERED_IDS, maxChainWeight: MAX_CHAIN_WEIGHT },
      });
      const b = payee(meB, vt, dht, () => honest(() => branchB.blocks, payer.id));

      // A: pledge read, its sighting of block 3 published, nothing else found: clean, countersigned.
      expect(await accept(vt, a, payer, toA)).toBe('countersigned');
      expect({ cleared: a.watch.cleared(payer.id), sighted: slotSeq(dht, payer.id, meA.id) }).toEqual({ cleared: 3n, sighted: 3n });

      // The payer's sybils each send A a receipt (unpledged: refused, but their chains audited and kept): A forgets the payer's view.
      if (mode !== 'none (control)') {
        for (const s of sybils) await settle(vt, a.views.prepare(s.id, `x:${s.id}:${meA.id}`, 'ab'));
        expect(a.views.audited(payer.id)).toBeUndefined();
      }
      if (mode === 'expire') await vt.advance(31 * 60_000);
      if (mode === 'regress') {
        // The payer sends A another receipt: A reads its chain from genesis, gets block 1, and is asked to wait.
        stall = true;
        await settle(vt, a.views.prepare(payer.id, `y:${payer.id}:${meA.id}`, 'cd'));
        // Its page audited, A looks (5 s later) and publishes its sighting of block 1 in its slot.
        await vt.advance(6_000);
        await a.watch.idle();
        // On 9babbf4 A's one slot then held its sighting of block 1 (the common prefix), no more of block 3: B's check below.
      }

      // B: the other branch, the same credit. Expected: B does not countersign (A countersigned block 3 of another branch).
      const atB = await accept(vt, b, payer, toB);
      expect({ a: 'countersigned', b: atB, bCleared: b.watch.cleared(payer.id) }).toEqual({ a: 'countersigned', b: expect.not.stringMatching(/countersigned/), bCleared: 0n });
      a.watch.stop();
      b.watch.stop();
    },
    60_000,
  );
});

/** Another payee's sighting of `block` (a SignedBlock of `payer`), put in its slot in the DHT, as its look would. */
const sightedBy = (vt: VirtualTime, dht: Dht, payer: string, other: Node, block: Uint8Array, ttlMs = 30 * 60_000) => putSighting(dht, payer, other, block, vt.clock.now(), ttlMs);

describe('LIVENESS (hold): an honest payer held', () => {
  /**
   * An honest payer that pays other payees every `everyMs` (each reads its chain and publishes its
   * sighting of the head 200 ms later, as its own hold has it); a DHT store and a lookup take 1 s
   * each. Payee A's receipt, pledged first, is sent every second (the outbox's retry on
   * SWARM_OVERLOADED, retryAfterMs 1,000) for two minutes: when is it countersigned?
   */
  async function busyPayer(everyMs: number | undefined): Promise<{ tries: number; countersigned: boolean; atMs: number; paymentsEndMs: number }> {
    const vt = virtualTime(START_MS + 10_000);
    const dht: Dht = new Map();
    const meA = node();
    const others = [node(), node(), node(), node()];
    const payer = spender(node(), 0);
    const toA = pledge(payer, meA, 1n, 'task-a');
    const a = payee(meA, vt, dht, () => honest(() => payer.blocks, payer.id), {
      findMs: 1_000,
      publishMs: 1_000,
    });
    let n = 0;
    let paymentsEndMs = 0;
    const payOthers = () => {
      // 98 of its 99 credits left: then it stops paying.
      if (everyMs === undefined || n >= 98) return;
      paymentsEndMs = vt.stopwatch.now() + everyMs;
      const to = others[n % others.length];
      pledge(payer, to, 1n, `task-${n}`);
      const block = payer.blocks[payer.blocks.length - 1];
      n += 1;
      vt.scheduler.setTimer(200, () => sightedBy(vt, dht, payer.id, to, block));
      vt.scheduler.setTimer(everyMs, payOthers);
    };
    payOthers();
    let tries = 0;
    let result = '';
    for (; tries < 120; tries += 1) {
      result = await accept(vt, a, payer, toA);
      if (result === 'countersigned') break;
      await vt.advance(1_000);
    }
    a.watch.stop();
    return { tries, countersigned: result === 'countersigned', atMs: vt.stopwatch.now(), paymentsEndMs };
  }

  it('H2 (control): a payer paying no one else: countersigned at the first try', async () => {
    expect(await busyPayer(undefined)).toMatchObject({ tries: 0, countersigned: true });
  }, 60_000);

  it("H2: a payer paying other payees twice a second: A's receipt held for as long as that goes on (each look finds a sighting above A's head: 'later', not clean)", async () => {
    const got = await busyPayer(500);
    // Expected: countersigned within a few tries, while the payer goes on paying (honest: every sighting is of its one chain).
    expect({ countersigned: got.countersigned, beforePaymentsEnd: got.atMs < got.paymentsEndMs, got }).toMatchObject({ countersigned: true, beforePaymentsEnd: true });
  }, 120_000);
});

/** `views`' file as credit-svc wrote it before 7b14e37 (no checkpoints field), read back by today's decodePayerViews. */
function restoredFromOldFile(nodeId: string, views: PayerViews): PayerViewsDeps['restored'] {
  const bytes = encodePayerViews(nodeId, rules, views.kept());
  const body = deserialize(bytes.subarray(32)) as { views: Array<Record<string, unknown>> };
  for (const v of body.views) delete v.checkpoints;
  const old = serialize(body);
  return decodePayerViews(nodeId, rules, Buffer.concat([createHash('sha256').update(old).digest(), old])).views;
}

describe('LIVENESS (hold): a node upgraded from before checkpoints', () => {
  it("H3: a view restored from a views file kept before 7b14e37 has no checkpoints: another payee's sighting more than 256 blocks below its head is never compared, and the honest payer's receipts are held for good", async () => {
    const vt = virtualTime(START_MS + 10_000);
    const dht: Dht = new Map();
    const meA = node();
    const otherPayee = node();
    const payer = spender(node(), 598);
    const gw = () => honest(() => payer.blocks, payer.id);
    // Before the upgrade: A audited the payer's chain to 600 and kept it in its views file.
    const before = startPayerViews({ rules, fetchChain: () => gw(), ...vt });
    await before.readOn(payer.id);
    await before.idle();
    const restored = restoredFromOldFile(meA.id, before);
    expect(restored?.[0]).toMatchObject({ payer: payer.id, head: { seq: 600n } });
    // Another payee, paid long ago, audited the chain to 100 and keeps its sighting of it (signed again every 10 minutes).
    sightedBy(vt, dht, payer.id, otherPayee, payer.blocks[99], 60 * 60_000);
    // After the upgrade: the payer pledges a receipt to A; the outbox sends it every second, for ten minutes.
    const a = payee(meA, vt, dht, () => gw(), { restored });
    const toA = pledge(payer, meA, 1n, 'task-a');
    let result = '';
    let tries = 0;
    for (; tries < 150; tries += 1) {
      result = await accept(vt, a, payer, toA);
      if (result === 'countersigned') break;
      await vt.advance(1_000);
    }
    // Expected: countersigned (the payer is honest; the other payee's block 100 is the one A audited).
    expect({ result, tries, cleared: a.watch.cleared(payer.id), failed: a.watch.stats().failed }).toMatchObject({ result: 'countersigned' });
    a.watch.stop();
  }, 120_000);
});

describe("GRIEF (hold): cheap payers hold every other payer's receipts", () => {
  /**
   * `griefers` payer identities of one owner, each with a chain of 12 blocks that pledges 1 credit
   * to A; one sybil "payee" sights each one's block 2, and each one's gateway answers a read back one
   * block a page, 1.9 s a page (inside the 2 s page timeout): each look at it runs to its 10 s
   * deadline, not clean. Each sends A its receipt again every second (as the outbox does on
   * SWARM_OVERLOADED). Meanwhile an honest payer pledges a receipt to A: how long until it is countersigned?
   */
  async function heldFor(griefers: number): Promise<{ heldMs: number; tries: number; looks: number }> {
    const vt = virtualTime(START_MS + 10_000);
    const dht: Dht = new Map();
    const meA = node();
    const sybil = node();
    const honestPayer = spender(node(), 3);
    const bad = Array.from({ length: griefers }, () => spender(node(), 10));
    const badIds = new Set(bad.map((g) => g.id));
    const asked = new Map(bad.map((g) => [g.id, pledge(g, meA, 1n, `grief-${g.id.slice(0, 8)}`)]));
    const byId = new Map([...bad, honestPayer].map((n) => [n.id, n]));
    const served = new Map<string, number>();
    const gateway =
      (p: string): Gateway =>
      async (fromSeq, limit) => {
        const n = byId.get(p) as Node;
        const from = Number(fromSeq);
        // Reads on: honest. Reads back (from below what it served): one block a page, slowly.
        if (!badIds.has(p) || from > (served.get(p) ?? 0)) {
          const page = await honest(() => n.blocks, p)(fromSeq, limit);
          served.set(p, Math.max(served.get(p) ?? 0, from - 1 + page.blocks.length));
          return page;
        }
        await new Promise<void>((r) => vt.scheduler.setTimer(1_900, r));
        return { blocks: n.blocks.slice(from - 1, from), headSeq: BigInt(n.blocks.length), nodeId: p };
      };
    const a = payee(meA, vt, dht, gateway);
    for (const g of bad) sightedBy(vt, dht, g.id, sybil, g.blocks[1], 60 * 60_000);
    // The griefers' receipts, each sent again every second, for as long as the test runs.
    let stop = false;
    const resend = () => {
      if (stop) return;
      for (const g of bad) {
        const x = asked.get(g.id) as Asked;
        void a.views.prepare(g.id, x.id, x.digest).then(() => {
          try {
            a.views.check(g.id, x.id, x.digest);
          } catch {
            // held: sent again
          }
        });
      }
      vt.scheduler.setTimer(1_000, resend);
    };
    resend();
    await vt.advance(5_000);
    const t0 = vt.stopwatch.now();
    const toA = pledge(honestPayer, meA, 1n, 'honest');
    let tries = 0;
    let result = '';
    for (; tries < 600; tries += 1) {
      result = await accept(vt, a, honestPayer, toA);
      if (result === 'countersigned') break;
      await vt.advance(1_000);
    }
    stop = true;
    const heldMs = vt.stopwatch.now() - t0;
    const looks = a.watch.stats().looks;
    a.watch.stop();
    return { heldMs, tries, looks };
  }

  it('R1 (control): no griefers: countersigned at once', async () => {
    expect(await heldFor(0)).toMatchObject({ tries: 0 });
  }, 60_000);

  it("R1: 128 griefer payers (128 proofs of work, a credit each) hold an honest payer's new receipt for minutes: receipts' looks (clear) are refused past MAX_LOOKS_RUNNING, and its background look waits behind theirs", async () => {
    const got = await heldFor(128);
    // Expected: an honest payer's receipt is not held more than a few seconds by other payers' looks.
    expect(got.heldMs).toBeLessThan(15_000);
  }, 300_000);
});

/**
 * A payer its payee A cannot reach (behind NAT: its gateway answers UNAVAILABLE), that paid C first
 * (C audited up to that pledge and published its sighting), then pledged `toA` to A.
 */
function payerBehindNat() {
  const vt = virtualTime(START_MS + 10_000);
  const dht: Dht = new Map();
  const meA = node();
  const c = node();
  const payer = spender(node(), 0);
  pledge(payer, c, 1n, 'task-c');
  sightedBy(vt, dht, payer.id, c, payer.blocks[payer.blocks.length - 1]);
  const toA = pledge(payer, meA, 1n, 'task-a');
  const unreachable: Gateway = async () => {
    throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no route to the peer (behind NAT)', true);
  };
  return { vt, payer, toA, a: payee(meA, vt, dht, () => unreachable) };
}

describe('LIVENESS (hold): a payer behind NAT', () => {
  it('H4: a payer its payees cannot reach (it offers its chain, docs/chain.md "Payers behind NAT") that paid another payee before: that payee\'s sighting is below A\'s head, a read back through the gateway fails, and A holds its receipts for good', async () => {
    const { vt, payer, toA, a } = payerBehindNat();
    // The payer's outbox: send; on UNAVAILABLE offer the chain's blocks; send again. For ten minutes.
    let result = '';
    let tries = 0;
    for (; tries < 150; tries += 1) {
      result = await accept(vt, a, payer, toA);
      if (result === 'countersigned') break;
      if (result === 'ERROR_CODE_UNAVAILABLE') {
        try {
          a.views.offer(payer.id, 1n, payer.blocks);
        } catch {
          // told to wait: sent again
        }
      }
      await vt.advance(1_000);
    }
    // Expected: countersigned (the payer is honest, its chain audited by offer: the pledge is there).
    expect({ result, pledgeAudited: a.views.audited(payer.id)?.head.seq }).toEqual({ result: 'countersigned', pledgeAudited: payer.head.seq });
    a.watch.stop();
  }, 120_000);
});

describe('DOCS: "at most one [look] a payer every 5 s"', () => {
  it('D1: each time a held receipt is sent again (every second), its payee looks twice at once: a DHT lookup each, whatever MIN_LOOK_INTERVAL_MS', async () => {
    const { vt, payer, toA, a } = payerBehindNat();
    await settle(vt, a.views.prepare(payer.id, toA.id, toA.digest));
    a.views.offer(payer.id, 1n, payer.blocks);
    const t0 = vt.stopwatch.now();
    const looks0 = a.watch.stats().looks;
    for (let i = 0; i < 60; i += 1) {
      await accept(vt, a, payer, toA);
      await vt.advance(1_000);
    }
    const elapsedS = (vt.stopwatch.now() - t0) / 1_000;
    const looks = a.watch.stats().looks - looks0;
    // Expected (docs): at most one look every 5 s.
    expect({ elapsedS, looks }).toEqual({ elapsedS, looks: Math.min(looks, Math.floor(elapsedS / 5) + 1) });
    a.watch.stop();
  }, 60_000);
});
