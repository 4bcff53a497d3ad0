/**
 * helper-156's attacks on what a lookup of sightings tells a payee: which holders heard hold its own
 * sighting, whether the answer left some out, and how long it takes. Real libs/dht nodes on the
 * memory network under virtual time, the registry's own validator and find; the attacker's node
 * (where there is one) a real node whose find-value / store answers are replaced. Each test asserts
 * what the defence guarantees (each failed on the code before its mend).
 */
import { heldByMost, makeChainSighting, withPowNonce } from '@swarm/chain';
import type { SwarmError } from '@swarm/contracts';
import { ChainBlock, ChainSighting, ErrorCode, SignedBlock, SignedChainSighting } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { seededRandom, virtualTime } from '@swarm/determinism';
import type { DhtNode, FindValueResponse, MemoryNetwork } from '@swarm/dht';
import { createMemoryNetwork, PAGED_READ_MS, randomHexId, startDhtNode } from '@swarm/dht';
import { createGenesis } from '@swarm/chain';
import { createChainSightings, sightingKey } from './chain-sightings';
import { createRecordValidator } from './provider-record';
import { distance, idNextTo, seededKey, startNodeNextTo, wrapped } from './test-fixtures/attacker-dht';
import { drive, startMemoryDht } from './test-fixtures/memory-dht';
import type { TestSigner } from './test-fixtures/test-signer';
import { createTestSigner, TEST_POW_DIFFICULTY } from './test-fixtures/test-signer';
import type { TestChainNode } from '@swarm/testing';
import { testChains } from '@swarm/testing';

// A payer with a real chain, and a second block of its head's seq (the other branch), as credit-svc's tests make them.
type Node = TestChainNode;
const { pay, resigned, rules, START_MS } = testChains;
/** Slots a key holds, one per payee (libs/dht DEFAULT_PROVIDER_STORE_LIMITS). */
const KEY_SLOTS = 256;

/** A chain node with a fixed key (from `seed`): the payer's key fixes where its sightings live, so each run meets the same DHT. */
function seededNode(seed: number): Node {
  const signer = seededKey(seed);
  const g = createGenesis(signer, rules, START_MS);
  return { id: g.head.nodeId, signer, head: g.head, blocks: [...g.blocks], ids: new Set() };
}
/** chains.ts spender(), from fixed keys: genesis, unlocked by another node, then 3 payments (head seq 5). */
function seededSpender(seed: number): Node {
  const n = seededNode(seed);
  pay(seededNode(seed + 1), n, 100n, 'unlock');
  const other = seededNode(seed + 2);
  for (let i = 0; i < 3; i += 1) pay(n, other, 1n, `t${i}`);
  return n;
}

const NOW = START_MS + 60_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const seqOf = (signedBlock: Uint8Array) => ChainBlock.decode(SignedBlock.decode(signedBlock).block).seq;
const payeesIn = (sightings: readonly SignedChainSighting[]) => sightings.map((s) => ChainSighting.decode(s.sighting).payeeId);

describe('ATTACK (helper-156): what a lookup of sightings tells a payee', () => {
  // The forking payer: a chain whose head (seq h) it signs twice, X for payee A and Y for payee B.
  const payer = seededSpender(5);
  const prefix = payer.blocks[payer.blocks.length - 2]; // seq h-1: on both branches
  const X = payer.blocks[payer.blocks.length - 1];
  const Y = resigned(X, payer.signer, (b) => void (b.atMs += 1n));
  const key = sightingKey(payer.id);
  let vt: VirtualTime;
  let net: MemoryNetwork;
  let nodes: DhtNode[];
  let extra: DhtNode[];

  const registryOf = (n: DhtNode, signer: TestSigner) =>
    createChainSightings({ dht: () => ({ node: n, nodeId: signer.nodeId, powNonce: signer.powNonce }), powDifficulty: TEST_POW_DIFFICULTY, clock: vt.clock });
  const sighting = (payee: TestSigner, block: Uint8Array, ttlMs: number) => SignedChainSighting.decode(makeChainSighting(payee, block, { atMs: vt.clock.now(), ttlMs }));
  const stored = (payee: TestSigner, block: Uint8Array, ttlMs: number) => withPowNonce(SignedChainSighting.encode(sighting(payee, block, ttlMs)).finish(), payee.powNonce);
  const byDistance = () => [...nodes].sort((a, b) => (distance(a.id, idNextTo(key)) < distance(b.id, idNextTo(key)) ? -1 : 1));

  beforeEach(async () => {
    vt = virtualTime(NOW);
    const dht = await startMemoryDht(vt, 5, 11);
    net = dht.net;
    nodes = dht.nodes;
    extra = [];
  });
  afterEach(async () => {
    await Promise.all([...nodes, ...extra].map((n) => n.stop()));
  });

  it("H1 echo: ONE attacker node next to the key hands each payee back its own sighting (a signed record it was sent) and nothing else, the honest holders full of the payer's filler sightings; neither payee of the fork clears (its store refused by most, its sighting held by one holder of several)", async () => {
    // The attacker's node: remembers who stored what under the key; answers each reader with the reader's own record only.
    const sentBy = new Map<string, Uint8Array>();
    const evil = await startNodeNextTo(vt, net, key, nodes, (h) => ({
      ...h,
      store: (from, req, network) => {
        if (req.key !== key) return h.store(from, req, network);
        sentBy.set(req.id, req.value);
        return { stored: true, refusal: '' };
      },
      findValue: async (from, req, network): Promise<FindValueResponse> => {
        const honest = await h.findValue(from, req, network);
        if (req.key !== key) return honest;
        const own = sentBy.get(req.id);
        return { values: own ? [own] : [], contacts: honest.contacts, moreAfter: '', paged: true };
      },
    }));
    extra.push(evil);
    await vt.advance(1_000);

    // The payer's made-up payees fill the key on the honest holders (256 slots; on a real swarm from 16
    // networks, as docs/chain.md grants): 255 for hours, one that lapses in 3 minutes, all of the
    // block both branches share (found 'same' by every payee: nothing to compare, nothing to read back).
    const [storer, , , b, a] = byDistance();
    const fillers = Array.from({ length: KEY_SLOTS }, () => createTestSigner());
    for (const [i, f] of fillers.entries()) await drive(vt, storer.store(key, stored(f, prefix, i === 0 ? 3 * MINUTE : 6 * HOUR)));

    // The two payees, shown two branches at seq h, publish (each look publishes before it finds).
    const A = createTestSigner();
    const B = createTestSigner();
    const pubA = await drive(vt, registryOf(a, A).publish({ sighting: sighting(A, X, 6 * HOUR) }));
    const pubB = await drive(vt, registryOf(b, B).publish({ sighting: sighting(B, Y, 6 * HOUR) }));
    // The one filler lapses: the key now holds 255 on the honest holders, so an answer is 256 at most.
    await vt.advance(4 * MINUTE);

    const foundA = await drive(vt, registryOf(a, A).find({ payerId: payer.id }));
    const foundB = await drive(vt, registryOf(b, B).find({ payerId: payer.id }));
    const h = seqOf(X);
    // sighting-watch.ts look(): clean needs stored >= 1, its own held by most holders heard, !truncated, and every other sighting 'same'.
    // sighting-watch.ts look(): clean needs its sighting stored by more nodes than refused it, held by
    // most holders heard, no answer cut short, and every other sighting the same: neither payee has it.
    const cleanFor = (pub: { stored: number; refused: number }, found: typeof foundA, other: string) => ({
      storedByMost: pub.stored > pub.refused,
      heldByMost: heldByMost(found.ownHeldSeqs, h),
      truncated: found.truncated,
      seesOther: payeesIn(found.sightings).includes(other),
    });
    const notClean = { storedByMost: false, heldByMost: false, truncated: false, seesOther: false };
    expect({ A: cleanFor(pubA, foundA, B.nodeId), B: cleanFor(pubB, foundB, A.nodeId) }).toEqual({ A: notClean, B: notClean });
  }, 60_000);

  it("H2 anyone: distinct made-up payees' sightings of an HONEST payer's block, stored straight on different holders (<= 256 each), do not cut an answer short: an answer carries every holder's 256", async () => {
    const honestBlock = X;
    const payee = createTestSigner();
    const reader = byDistance()[4];
    // The honest payee's sighting, held everywhere it was sent.
    const pub = await drive(vt, registryOf(reader, payee).publish({ sighting: sighting(payee, honestBlock, 6 * HOUR) }));
    expect(pub.stored).toBeGreaterThan(0);
    // The attacker: no node id near the key, just a STORE straight to each node, a different 150 on each (overlapping by 90).
    const fillers = Array.from({ length: 60 * nodes.length + 150 }, () => createTestSigner());
    const attacker = net.transport('attacker');
    attacker.listen({
      ping: () => ({ remoteId: 'a'.repeat(40) }),
      store: () => ({ stored: false, refusal: 'no' }),
      findNode: () => ({ contacts: [] }),
      findValue: () => ({ values: [], contacts: [] }),
    });
    for (const [i, n] of nodes.entries()) {
      for (const f of fillers.slice(i * 60, i * 60 + 150)) {
        const r = await drive(vt, attacker.store(n.endpoint, { id: 'a'.repeat(40), key, value: stored(f, honestBlock, 6 * HOUR) }));
        expect(r.stored).toBe(true);
      }
    }
    const found = await drive(vt, registryOf(reader, payee).find({ payerId: payer.id }));
    // Defence: an honest payer whose one payee's sighting is held everywhere is not made unclearable by strangers' records.
    expect(found.truncated).toBe(false);
  }, 120_000);

  it("H2b no attacker: an honest payer with 300 payees, and one node joining next to its key; the payees re-sign (hourly) in another order, the new node keeps another 256 of them, and the answer is still whole, the payee's own held by most", async () => {
    const payees = Array.from({ length: 300 }, () => createTestSigner());
    const storers = byDistance();
    // Each payee's first sighting, in turn (a payee's registry stores as node.store does; the storer is whichever node it runs on).
    for (const [i, p] of payees.entries()) await drive(vt, storers[i % storers.length].store(key, stored(p, X, 6 * HOUR)));
    // A reader that stores nothing of its own (a payee's own node holds its own sighting only; payees[4]'s is held by the holders).
    const far = idNextTo(key)
      .split('')
      .map((c) => (15 - parseInt(c, 16)).toString(16))
      .join('');
    const reader = await drive(
      vt,
      startDhtNode(
        { transport: net.transport('reader'), clock: vt.clock, scheduler: vt.scheduler, random: seededRandom(4), validate: createRecordValidator(TEST_POW_DIFFICULTY) },
        { id: far, seeds: [nodes[0].endpoint], bucketSize: 4 },
      ),
    );
    extra.push(reader);
    await vt.advance(1_000);
    const before = await drive(vt, registryOf(reader, payees[4]).find({ payerId: payer.id }));
    // The control: before any churn, the answer is whole (the holders keep the same first 256).
    expect({ ownHeld: heldByMost(before.ownHeldSeqs, seqOf(X)), truncated: before.truncated }).toEqual({ ownHeld: true, truncated: false });
    // A node joins, next to the key (any node id lands somewhere; here the closest).
    const joiner = await drive(
      vt,
      startDhtNode(
        { transport: net.transport('joiner'), clock: vt.clock, scheduler: vt.scheduler, random: seededRandom(3), validate: createRecordValidator(TEST_POW_DIFFICULTY) },
        { id: idNextTo(key), seeds: [nodes[0].endpoint], bucketSize: 4 },
      ),
    );
    extra.push(joiner);
    for (const n of nodes) await drive(vt, joiner.findClosest(n.id));
    await vt.advance(HOUR);
    // The hourly re-signs, in whatever order the payees' timers fall (here: the last first).
    for (const [i, p] of [...payees.entries()].reverse()) await drive(vt, storers[i % storers.length].store(key, stored(p, X, 6 * HOUR)));
    const found = await drive(vt, registryOf(reader, payees[4]).find({ payerId: payer.id }));
    // Defence: a payee whose own sighting is held, of an honest payer, can clear.
    expect({ ownHeld: heldByMost(found.ownHeldSeqs, seqOf(X)), truncated: found.truncated }).toEqual({ ownHeld: true, truncated: false });
  }, 180_000);

  it("H3r: a restarted payee node (empty store) whose own sighting the holders keep: an attacker node next to the key answering 256 others first : the answer's own is the payee's sighting at the head, listed or not", async () => {
    const payee = createTestSigner();
    // Of the genesis (both branches share it), 471 bytes each: two pages, where the holders' are five.
    const others = Array.from({ length: KEY_SLOTS }, () => createTestSigner()).map((f) => stored(f, payer.blocks[0], 6 * HOUR));
    // The key as a payer with many payees has it: 255 others on the holders (the payer's own fillers, or other
    // payees), then the payee's sighting of X, published before its restart.
    for (const f of Array.from({ length: KEY_SLOTS - 1 }, () => createTestSigner())) await drive(vt, byDistance()[0].store(key, stored(f, prefix, 6 * HOUR)));
    const pub = await drive(vt, registryOf(byDistance()[1], payee).publish({ sighting: sighting(payee, X, 6 * HOUR) }));
    expect(pub.stored).toBeGreaterThan(1);
    // The attacker's node next to the key: 256 others, paged as an honest holder pages them.
    const pages: Uint8Array[][] = [[]];
    for (const v of others) {
      if (pages[pages.length - 1].reduce((n, x) => n + x.byteLength, v.byteLength) > 64 * 1024) pages.push([]);
      pages[pages.length - 1].push(v);
    }
    const evil = await startNodeNextTo(vt, net, key, nodes, (h) => ({
      ...h,
      findValue: async (from, req, network): Promise<FindValueResponse> => {
        const honest = await h.findValue(from, req, network);
        if (req.key !== key || !req.paged) return honest;
        const at = req.after ? Number(req.after.slice(1)) : 0;
        return { values: pages[at], contacts: honest.contacts, moreAfter: at + 1 < pages.length ? `p${at + 1}` : '', paged: true };
      },
    }));
    extra.push(evil);
    // The payee's node restarted: a fresh DHT node, nothing in its store.
    const fresh = await drive(
      vt,
      startDhtNode(
        { transport: net.transport('fresh'), clock: vt.clock, scheduler: vt.scheduler, random: seededRandom(7), validate: createRecordValidator(TEST_POW_DIFFICULTY) },
        // k = 20 as registry-svc runs it (the fixture's 4 would leave the attacker's node out of a full bucket by chance).
        { id: byDistance()[4].id.replace(/.$/, (c) => (parseInt(c, 16) ^ 1).toString(16)), seeds: [nodes[0].endpoint], bucketSize: 20 },
      ),
    );
    extra.push(fresh);
    await drive(vt, fresh.findClosest(evil.id));
    await vt.advance(1_000);
    const found = await drive(vt, registryOf(fresh, payee).find({ payerId: payer.id }));
    // What sighting-watch.ts ownInDht reads is the answer's own: this node's, held at h, whatever the list carries.
    const own = found.own && ChainSighting.decode(found.own.sighting);
    expect({ payee: own?.payeeId, seq: own?.payerBlock && ChainBlock.decode(own.payerBlock.block).seq }).toEqual({ payee: payee.nodeId, seq: seqOf(X) });
  }, 120_000);

  it("H4 time: four attacker nodes next to the key, each paging slowly (pages just inside registry-svc's 2.5 s DHT call timeout, the last asked just before PAGED_READ_MS: ~5.4 s a holder), a find still ends within credit-svc's 10 s (COMPLETE_LOOKUP_MS), with no clean answer", async () => {
    const CALL_TIMEOUT_MS = 2_500; // bus-dht-transport.ts DEFAULT_DHT_CALL_TIMEOUT_MS
    const random = seededRandom(21);
    const slowNet = createMemoryNetwork({ scheduler: vt.scheduler, random, latencyMs: 2, timeoutMs: CALL_TIMEOUT_MS });
    const validate = createRecordValidator(TEST_POW_DIFFICULTY);
    const honest: DhtNode[] = [];
    for (let i = 0; i < 8; i++) {
      honest.push(
        await drive(
          vt,
          startDhtNode(
            { transport: slowNet.transport(`h${i}`), clock: vt.clock, scheduler: vt.scheduler, random, validate },
            { id: randomHexId(random), seeds: i ? [honest[0].endpoint] : [], bucketSize: 8 },
          ),
        ),
      );
      await vt.advance(100);
    }
    extra.push(...honest);
    const payee = createTestSigner();
    await drive(vt, registryOf(honest[0], payee).publish({ sighting: sighting(payee, X, 6 * HOUR) }));
    const filler = stored(createTestSigner(), prefix, 6 * HOUR);
    const near = idNextTo(key);
    let stallerPages = 0;
    for (let i = 0; i < 4; i++) {
      const id = near.slice(0, -2) + ((parseInt(near.slice(-2), 16) ^ (i + 2)) & 0xff).toString(16).padStart(2, '0');
      const transport = wrapped(slowNet.transport(`evil${i}`), (h) => ({
        ...h,
        findValue: async (from, req, network): Promise<FindValueResponse> => {
          const answer = await h.findValue(from, req, network);
          if (req.key !== key || !req.paged) return answer;
          stallerPages += 1;
          // The first page at once-ish, the next ones just inside the call timeout: the last page is asked just before PAGED_READ_MS runs out.
          const delay = (req.after ?? '') === '' ? PAGED_READ_MS - (CALL_TIMEOUT_MS - 50) - 30 : CALL_TIMEOUT_MS - 50;
          await new Promise<void>((resolve) => vt.scheduler.setTimer(delay, resolve));
          return { values: [filler], contacts: answer.contacts, moreAfter: `${req.after ?? ''}z`, paged: true };
        },
      }));
      const e = await drive(
        vt,
        startDhtNode({ transport, clock: vt.clock, scheduler: vt.scheduler, random: seededRandom(100 + i), validate }, { id, seeds: [honest[0].endpoint], bucketSize: 8 }),
      );
      extra.push(e);
      for (const n of honest) await drive(vt, e.findClosest(n.id));
    }
    await vt.advance(1_000);
    const reader = honest[7];
    const started = vt.stopwatch.now();
    const outcome = await drive(vt, registryOf(reader, createTestSigner()).find({ payerId: payer.id })).then(
      (found) => ({ found: found.sightings.length }),
      (err: unknown) => ({ code: (err as SwarmError).code }),
    );
    const tookMs = vt.stopwatch.now() - started;
    // The stallers were asked (their pages read until the lookup's time ran out) and the find ended
    // within credit-svc's 10 s: the honest holders, asked after that time, were cut off, so no node
    // answered whole: UNAVAILABLE, and no look is clean (the payer is held, not paid twice).
    expect({ stallersAsked: stallerPages > 4, outcome, inTime: tookMs < 10_000 }).toEqual({
      stallersAsked: true,
      outcome: { code: ErrorCode.ERROR_CODE_UNAVAILABLE },
      inTime: true,
    });
  }, 120_000);
});
