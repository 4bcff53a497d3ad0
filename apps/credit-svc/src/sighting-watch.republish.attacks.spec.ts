/**
 * helper-155's checks of the republish at start and the hourly refresh: a payee restarted with what
 * its views file kept (here: the anchor of a payer's forgotten view), the DHT a map.
 */
import type { SignedChainSighting } from '@swarm/contracts';
import { ChainBlock, ChainSighting, ErrorCode, SwarmError } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Anchor, PayerViews } from './payer-views';
import { startPayerViews } from './payer-views';
import type { SightingWatch } from './sighting-watch';
import { REFRESH_MS, REPUBLISH_RETRY_MS, SIGHTING_TTL_MS } from './sighting-publisher';
import { startSightingWatch } from './sighting-watch';
import type { PublishedJournal } from './published-sightings';
import { openPublishedJournal, PUBLISHED_SIGHTINGS_FILE } from './published-sightings';
import type { Node } from './test-fixtures/chains';
import { node, rules, spender, START_MS } from './test-fixtures/chains';
import { foundIn, putSighting, storeIn } from './test-fixtures/sightings';

/** credit-svc's bus call to registry-svc (service.ts SIGHTING_CALL_TIMEOUT_MS). */
const SIGHTING_CALL_TIMEOUT_MS = 10_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Setup {
  readonly vt: VirtualTime;
  readonly views: PayerViews;
  readonly watch: SightingWatch;
  readonly dht: Map<string, Map<string, SignedChainSighting>>;
  /** find of this payer's key does not answer within credit-svc's timeout (a node on its key stalls every lookup, registry spec A1). */
  readonly stalled: Set<string>;
  /** Make publishes fail (the DHT out of reach) or take this long. */
  readonly net: { down: boolean; publishMs: number };
}

function setup(me: Node, anchors: ReadonlyArray<readonly [string, Anchor]>, atMs = START_MS + 10_000, journal?: PublishedJournal, vt = virtualTime(atMs)): Setup {
  const dht = new Map<string, Map<string, SignedChainSighting>>();
  const stalled = new Set<string>();
  const net = { down: false, publishMs: 0 };
  const sleep = (ms: number) => new Promise<void>((resolve) => vt.scheduler.setTimer(ms, resolve));
  const fetchChain = () => async () => {
    throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no chain reads here (test)', true);
  };
  const views = startPayerViews({ rules, fetchChain, ...vt, anchors, onFork: () => undefined, onAudited: () => undefined });
  const watch = startSightingWatch({
    views,
    ...(journal ? { journal } : {}),
    fetchChain,
    publish: async (s) => {
      if (net.publishMs > 0) await sleep(net.publishMs);
      if (net.down) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the DHT is down (test)', true);
      storeIn(dht, s);
      return { stored: 1, refused: 0 };
    },
    find: async (p) => {
      if (stalled.has(p)) {
        await sleep(SIGHTING_CALL_TIMEOUT_MS);
        throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'registry.find-sightings: no answer in 10 s (test)', true);
      }
      if (net.down) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the DHT is down (test)', true);
      return foundIn(dht, p, me.id);
    },
    signer: me.signer,
    nodeId: me.id,
    powDifficulty: 0,
    ...vt,
    log: silentLogger(),
  });
  return { vt, views, watch, dht, stalled, net };
}

/** Until when `payee`'s sighting of `payer` in the DHT lives (0: none). */
const livesUntil = (s: Setup, payer: Node, payee: Node) =>
  Number(s.dht.get(payer.id)?.get(payee.id) ? ChainSighting.decode(s.dht.get(payer.id)!.get(payee.id)!.sighting).expiresAtMs : 0n);

const anchorOf = (p: Node): readonly [string, Anchor] => [p.id, { seq: p.head.seq, block: p.blocks[p.blocks.length - 1] }];

/** `payee`'s sighting of `payer`'s head, signed at `atMs` (before a restart), put in the DHT. */
function sightedBefore(s: Setup, payer: Node, payee: Node, atMs: number) {
  putSighting(s.dht, payer.id, payee, payer.blocks[payer.blocks.length - 1], atMs, SIGHTING_TTL_MS);
}

/** The seq of `payee`'s sighting of `payer` in the DHT. */
const seqIn = (s: Setup, payer: Node, payee: Node) => {
  const held = s.dht.get(payer.id)?.get(payee.id);
  return held && ChainBlock.decode(ChainSighting.decode(held.sighting).payerBlock!.block).seq;
};

/** Moves virtual time on a second at a time, real time too (the journal's writes), until `done`. */
async function settle(s: Setup, done: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !done(); i++) {
    await s.vt.advance(1_000);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  expect(done()).toBe(true);
}

/** Moves virtual time on `ms`, a minute at a time, letting the watch's work settle between. */
async function run(s: Setup, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += MINUTE) await s.vt.advance(Math.min(MINUTE, ms - t));
}

describe('ATTACK: the republish at start', () => {
  const me = node();

  it('R1: a restarted payee whose lookups of a payer never answer in time (a staller on the payer key) still signs its sighting again from what it kept, so it never expires', async () => {
    const payer = spender(node(), 3);
    const s = setup(me, [anchorOf(payer)]);
    // Signed an hour before the restart (the last hourly refresh), for 6 h.
    sightedBefore(s, payer, me, s.vt.clock.now() - HOUR);
    s.stalled.add(payer.id);
    s.watch.republish([payer.id]);
    await run(s, SIGHTING_TTL_MS);
    // Signed again with the anchor's block (stores work), though the find of its own before it never answers.
    expect({ stillSighted: livesUntil(s, payer, me) > s.vt.clock.now(), stats: s.watch.stats() }).toMatchObject({ stillSighted: true });
    s.watch.stop();
  }, 60_000);

  it('R4: a payee killed just after publishing the head (its views file a block lower) whose lookups are stalled signs the head again from its journal, never the lower block', async () => {
    const payer = spender(node(), 3);
    const dir = await mkdtemp(join(tmpdir(), 'swarm-journal-'));
    const journals: PublishedJournal[] = [];
    try {
      const path = join(dir, PUBLISHED_SIGHTINGS_FILE);
      const vt = virtualTime(START_MS + 10_000);
      const journalOf = async (newLedger: boolean) => {
        journals.push(await openPublishedJournal({ path, clock: vt.clock, log: silentLogger(), newLedger, keep: () => true }));
        return journals[journals.length - 1];
      };
      const before = setup(me, [anchorOf(payer)], undefined, await journalOf(true), vt);
      before.watch.republish([payer.id]);
      await settle(before, () => before.watch.stats().published === 1);
      before.watch.stop();
      // kill -9: the journal is not closed. The views file was written a minute before: its anchor is the block below the head.
      const lower: readonly [string, Anchor] = [payer.id, { seq: payer.head.seq - 1n, block: payer.blocks[payer.blocks.length - 2] }];
      const after = setup(me, [lower], undefined, await journalOf(false), vt);
      for (const [p, slots] of before.dht) after.dht.set(p, new Map(slots));
      after.stalled.add(payer.id);
      after.watch.republish([payer.id]);
      await settle(after, () => after.watch.stats().published === 1);
      expect(seqIn(after, payer, me)).toBe(payer.head.seq);
      after.watch.stop();
    } finally {
      for (const journal of journals) await journal.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('R5 (holds): a sighting goes out only once its block is on disk; one whose block could not be written is not published, and is tried again', async () => {
    const payer = spender(node(), 3);
    const onDisk = new Map<string, bigint>();
    let diskFull = true;
    const journal: PublishedJournal = {
      kept: new Map(),
      complete: () => true,
      record: async (p, seq) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (diskFull) throw new Error('ENOSPC (test)');
        onDisk.set(p, seq);
      },
      close: async () => undefined,
    };
    const s = setup(me, [anchorOf(payer)], undefined, journal);
    s.watch.republish([payer.id]);
    await settle(s, () => s.watch.stats().failed >= 1);
    expect(s.dht.get(payer.id)?.get(me.id)).toBeUndefined();
    diskFull = false;
    await settle(s, () => s.watch.stats().published === 1);
    expect({ onDisk: onDisk.get(payer.id), inDht: seqIn(s, payer, me) }).toEqual({ onDisk: payer.head.seq, inDht: payer.head.seq });
    s.watch.stop();
  });

  it('R2 (holds): anchors are signed again before they expire, the DHT down for 2 h in between, over a day', async () => {
    const payers = Array.from({ length: 6 }, () => spender(node(), 2));
    const s = setup(me, payers.map(anchorOf));
    for (const p of payers) sightedBefore(s, p, me, s.vt.clock.now() - 5 * MINUTE);
    s.watch.republish(payers.map((p) => p.id));
    let gaps = 0;
    for (let t = 0; t < 24 * HOUR; t += MINUTE) {
      s.net.down = t >= 7 * HOUR && t < 9 * HOUR;
      s.net.publishMs = 3_000;
      await s.vt.advance(MINUTE);
      for (const p of payers) if (livesUntil(s, p, me) <= s.vt.clock.now()) gaps += 1;
    }
    expect({ gaps, toRepublish: s.watch.stats().toRepublish }).toEqual({ gaps: 0, toRepublish: 0 });
    s.watch.stop();
  }, 60_000);

  it('R3 (holds): stop() with republishes in flight that then fail leaves no retry sweep behind', async () => {
    const payers = Array.from({ length: 6 }, () => spender(node(), 2));
    const s = setup(me, payers.map(anchorOf));
    s.net.publishMs = 5_000;
    s.net.down = true;
    const before = s.vt.pending();
    s.watch.republish(payers.map((p) => p.id));
    await s.vt.advance(1_000);
    s.watch.stop();
    await s.vt.advance(10_000);
    await s.watch.idle();
    // The watch's own refresh timer was one of `before`; stop() cancelled it.
    expect(s.vt.pending()).toBe(before - 1);
    await s.vt.advance(REPUBLISH_RETRY_MS + REFRESH_MS);
    expect(s.watch.stats()).toMatchObject({ published: 0 });
  });
});
