/**
 * helper-155's attacks on find-value paging: a lookup of sightings (`complete: true`)
 * reads every page of every node it contacts. Each attack runs one DHT node of the attacker's
 * (a real libs/dht node, its find-value answers replaced) beside five honest ones, its id the one
 * next to the payer's sighting key (a node id costs a proof of work; one near a key, a few more).
 */
import { chainRules, createGenesis, makeChainSighting, withPowNonce } from '@swarm/chain';
import type { SwarmError } from '@swarm/contracts';
import { ChainSighting, ErrorCode, SignedChainSighting } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { DhtNode, FindValueRequest, FindValueResponse, MemoryNetwork } from '@swarm/dht';
import { MAX_REPLY_VALUE_BYTES, PAGED_READ_MS } from '@swarm/dht';
import { findPowNonce, nodeIdOfKey } from '@swarm/records';
import { createChainSightings, sightingKey } from './chain-sightings';
import { distance, idNextTo, seededKey, startNodeNextTo } from './test-fixtures/attacker-dht';
import { drive, startMemoryDht } from './test-fixtures/memory-dht';
import type { TestSigner } from './test-fixtures/test-signer';
import { createTestSigner, TEST_POW_DIFFICULTY } from './test-fixtures/test-signer';

const NOW = 1_800_000_000_000;
const TTL_MS = 10 * 60_000;
/** credit-svc gives a find this long (service.ts SIGHTING_CALL_TIMEOUT_MS), then the look is not clean. */
const SIGHTING_CALL_TIMEOUT_MS = 10_000;
/** The fixture's memory network: a call with no reply in this long fails. */
const MEMORY_TIMEOUT_MS = 500;

/** A fixed key (createTestSigner's, from a seed): the payer's key fixes where its sightings live, so each run meets the same DHT. */
function signerFromSeed(seed: number): TestSigner {
  const key = seededKey(seed);
  const nodeId = nodeIdOfKey(key.publicKey);
  return { ...key, nodeId, powNonce: findPowNonce(nodeId, TEST_POW_DIFFICULTY) };
}

describe('ATTACK: find-value paging', () => {
  const payer = signerFromSeed(5);
  const payerBlock = createGenesis(payer, chainRules(), NOW - 60_000).blocks[0];
  const key = sightingKey(payer.nodeId);
  let vt: VirtualTime;
  let net: MemoryNetwork;
  let nodes: DhtNode[];
  let evil: DhtNode | undefined;
  let payees: TestSigner[];

  const registryOf = (node: DhtNode, signer: TestSigner) =>
    createChainSightings({ dht: () => ({ node, nodeId: signer.nodeId, powNonce: signer.powNonce }), powDifficulty: TEST_POW_DIFFICULTY, clock: vt.clock });
  const signedBy = (payee: TestSigner) => SignedChainSighting.decode(makeChainSighting(payee, payerBlock, { atMs: vt.clock.now(), ttlMs: TTL_MS }));

  /** The attacker's node, next to the key, answering find-value of `key` with `answer` (anything else as an honest node). */
  async function startEvil(answer: (req: FindValueRequest, honest: FindValueResponse) => Promise<FindValueResponse> | FindValueResponse): Promise<DhtNode> {
    const node = await startNodeNextTo(vt, net, key, nodes, (h) => ({
      ...h,
      findValue: async (from, req, network) => {
        const honest = await h.findValue(from, req, network);
        return req.key === key ? answer(req, honest) : honest;
      },
    }));
    // What each attack rests on: the reader has the attacker's node in its table (it is the closest to the key there is).
    expect(
      farthest()
        .contacts()
        .some((c) => c.id === node.id),
    ).toBe(true);
    evil = node;
    return node;
  }

  /** An honest node that holds no record of the key (not the publisher, nodes[0]): the farthest from it (the reader, as most payees are). */
  const farthest = () => nodes.slice(1).reduce((a, b) => (distance(a.id, idNextTo(key)) > distance(b.id, idNextTo(key)) ? a : b));

  beforeEach(async () => {
    vt = virtualTime(NOW);
    const dht = await startMemoryDht(vt, 5, 11);
    net = dht.net;
    nodes = dht.nodes;
    payees = nodes.map(() => createTestSigner());
    evil = undefined;
  });

  afterEach(async () => {
    await Promise.all([...nodes, ...(evil ? [evil] : [])].map((n) => n.stop()));
  });

  it('A1 stall: a node the lookup contacts pages on forever (no records, a cursor one step on each time, each page just inside the timeout); the find takes about what one slow answer costs, not 63 of them', async () => {
    let pages = 0;
    await startEvil(async (req, honest) => {
      if (!req.paged) return honest;
      pages++;
      await new Promise<void>((resolve) => vt.scheduler.setTimer(MEMORY_TIMEOUT_MS - 20, resolve));
      return { values: [], contacts: honest.contacts, moreAfter: `${req.after ?? ''}z`, paged: true };
    });
    const reader = farthest();
    const honest = signedBy(payees[0]);
    await drive(vt, registryOf(nodes[0], payees[0]).publish({ sighting: honest }));
    const started = vt.stopwatch.now();
    const found = await drive(vt, registryOf(reader, payees[nodes.indexOf(reader)]).find({ payerId: payer.nodeId }));
    const tookMs = vt.stopwatch.now() - started;
    // The honest sighting is found in the end (the staller is a failed contact) ...
    expect(found.sightings.map((s) => ChainSighting.decode(s.sighting).payeeId)).toContain(payees[0].nodeId);
    // ... within credit-svc's 10 s: a page on with no records is no honest holder's (before: the staller's 64 pages, one
    // after the other, 31,000 ms here with a 500 ms call timeout; with the gateway's 2.5 s, about 160 s).
    expect({ pages, tookMs }).toEqual({ pages: 1, tookMs: tookMs < SIGHTING_CALL_TIMEOUT_MS ? tookMs : `under ${SIGHTING_CALL_TIMEOUT_MS} ms` });
  }, 60_000);

  it('A1b slow pages: a node pages on one valid record at a time, each page just inside the timeout; the find stops reading it after PAGED_READ_MS, well within what credit-svc gives it (10 s)', async () => {
    const fillers = Array.from({ length: 64 }, () => createTestSigner());
    const values = fillers.map((f) => withPowNonce(SignedChainSighting.encode(signedBy(f)).finish(), f.powNonce));
    let pages = 0;
    await startEvil(async (req, honest) => {
      if (!req.paged) return honest;
      pages++;
      const at = req.after ? Number(req.after.slice(1)) : 0;
      await new Promise<void>((resolve) => vt.scheduler.setTimer(MEMORY_TIMEOUT_MS - 20, resolve));
      return { values: [values[at]], contacts: honest.contacts, moreAfter: at + 1 < values.length ? `p${String(at + 1).padStart(3, '0')}` : '', paged: true };
    });
    const reader = farthest();
    await drive(vt, registryOf(nodes[0], payees[0]).publish({ sighting: signedBy(payees[0]) }));
    const started = vt.stopwatch.now();
    const found = await drive(vt, registryOf(reader, payees[nodes.indexOf(reader)]).find({ payerId: payer.nodeId }));
    const tookMs = vt.stopwatch.now() - started;
    // Its records are not taken (its read did not end), the honest one is; about 3.5 s, not 64 pages' 31 s.
    const payeesFound = found.sightings.map((x) => ChainSighting.decode(x.sighting).payeeId);
    expect({
      honest: payeesFound.includes(payees[0].nodeId),
      fillers: found.sightings.length - 1,
      fast: tookMs <= PAGED_READ_MS + 2 * MEMORY_TIMEOUT_MS,
      pagesRead: pages < 10,
    }).toEqual({
      honest: true,
      fillers: 0,
      fast: true,
      pagesRead: true,
    });
  }, 60_000);

  it('A2 crowd-out: a node the lookup contacts first answers 256 valid sightings of made-up payees, paged as an honest holder would; the honest payee’s is not crowded out', async () => {
    const fillers = Array.from({ length: 256 }, () => createTestSigner());
    const values = fillers.map((f) => withPowNonce(SignedChainSighting.encode(signedBy(f)).finish(), f.powNonce));
    // Served as an honest holder would: pages within a reply's bytes, each going on after the last.
    const pages: Uint8Array[][] = [[]];
    for (const v of values) {
      if (pages[pages.length - 1].reduce((n, x) => n + x.byteLength, v.byteLength) > MAX_REPLY_VALUE_BYTES) pages.push([]);
      pages[pages.length - 1].push(v);
    }
    await startEvil((req, honest) => {
      const at = req.paged && req.after ? Number(req.after.slice(1)) : 0;
      return { values: pages[at], contacts: honest.contacts, moreAfter: at + 1 < pages.length ? `p${at + 1}` : '', paged: true };
    });
    const reader = farthest();
    const honest = signedBy(payees[0]);
    const report = await drive(vt, registryOf(nodes[0], payees[0]).publish({ sighting: honest }));
    expect(report.stored).toBeGreaterThan(1);
    const found = await drive(vt, registryOf(reader, payees[nodes.indexOf(reader)]).find({ payerId: payer.nodeId }));
    const payeesFound = new Set(found.sightings.map((s) => ChainSighting.decode(s.sighting).payeeId));
    // 257 sightings: an answer carries every holder's 256 and more (it carried 256 once, and the
    // fillers that came first crowded the honest one out), so nothing is left out.
    expect({ count: found.sightings.length, truncated: found.truncated, honest: payeesFound.has(payees[0].nodeId) }).toEqual({ count: 257, truncated: false, honest: true });
  }, 60_000);

  it('A3 a holder failing on its second page: the records of its first are dropped, and the reply does not count as heard: find answers UNAVAILABLE, not "no sightings"', async () => {
    await startEvil((req, honest) => {
      if (!req.paged) return honest;
      // Its first page as an honest holder with more to come (e.g. a full key); then it goes away.
      if ((req.after ?? '') === '') return { ...honest, moreAfter: 'f'.repeat(64) };
      throw new Error('gone (test)');
    });
    const reader = farthest();
    const honest = signedBy(payees[0]);
    await drive(vt, registryOf(nodes[0], payees[0]).publish({ sighting: honest }));
    // Every honest node but the reader out of reach: the evil node is the only one that answers.
    for (const n of nodes) if (n !== reader) net.kill(n.endpoint);
    const outcome = await drive(vt, registryOf(reader, payees[nodes.indexOf(reader)]).find({ payerId: payer.nodeId })).then(
      (r) => ({ sightings: r.sightings.length }),
      (err: unknown) => ({ code: (err as SwarmError).code }),
    );
    // UNAVAILABLE, as when no node answers (chain-sightings.hold.attacks.spec D2): the evil node held the honest sighting on page 1.
    expect(outcome).toEqual({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
  }, 60_000);
});
