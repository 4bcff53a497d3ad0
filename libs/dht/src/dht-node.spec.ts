import { ErrorCode, SwarmError } from '@swarm/contracts';
import { seededRandom, virtualTime } from '@swarm/determinism';
import type { VirtualTime } from '@swarm/determinism';
import { commonPrefixLength, idFromHex, randomHexId } from './dht-id';
import type { DhtNode, DhtNodeInit } from './dht-node';
import type { DhtTransport } from './wire';
import { DEFAULT_SETTLE_FIRST_MS, DEFAULT_SETTLE_MAX_MS, startDhtNode } from './dht-node';
import type { MemoryNetwork } from './memory-network';
import { createMemoryNetwork } from './memory-network';
import { MAX_CONTACTS_PER_REPLY } from './wire-checks';
import { drive as driveFor } from './test-drive';
import { providerOfTestRecord, testRecord, validateTestRecord } from './test-records';
import { MAX_ENDPOINT_CHARS } from './wire-checks';

const TIMEOUT_MS = 500;
const HOUR_MS = 60 * 60 * 1000;

const drive = <T>(vt: VirtualTime, promise: Promise<T>) => driveFor(vt, promise, TIMEOUT_MS / 5);

interface Swarm {
  vt: VirtualTime;
  net: MemoryNetwork;
  nodes: DhtNode[];
  /** `wrap`: the node's transport as it is handed (a test's liar in between). */
  add(init?: Partial<DhtNodeInit>, wrap?: (transport: DhtTransport) => DhtTransport): Promise<DhtNode>;
  stop(): Promise<void>;
}

async function swarmOf(size: number, init: Partial<DhtNodeInit> = {}, seed = 7): Promise<Swarm> {
  const random = seededRandom(seed);
  const vt = virtualTime(1_700_000_000_000);
  const net = createMemoryNetwork({ scheduler: vt.scheduler, random, latencyMs: 3, timeoutMs: TIMEOUT_MS });
  const nodes: DhtNode[] = [];
  const add = async (extra: Partial<DhtNodeInit> = {}, wrap = (t: DhtTransport) => t) => {
    const seeds = nodes.length === 0 ? [] : [nodes[Math.floor(random() * nodes.length)].endpoint];
    const transport = wrap(net.transport(`n${nodes.length}`));
    const node = await drive(
      vt,
      startDhtNode(
        { transport, clock: vt.clock, scheduler: vt.scheduler, random, validate: validateTestRecord },
        { id: randomHexId(random), seeds, bucketSize: 4, ...init, ...extra },
      ),
    );
    nodes.push(node);
    // The nodes it reached dial it back before admitting it (dial-back.ts): let those pings land.
    await vt.advance(TIMEOUT_MS / 5);
    return node;
  };
  for (let i = 0; i < size; i++) await add();
  return { vt, net, nodes, add, stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) };
}

function recordFor(s: Swarm, node: DhtNode, ttlMs = HOUR_MS) {
  return () => testRecord(node.id, s.vt.clock.now(), s.vt.clock.now() + ttlMs);
}

describe('dht node - bootstrap', () => {
  it('starts a new swarm with no seeds, and joins one through a seed', async () => {
    const s = await swarmOf(1);
    expect(s.nodes[0].bootstrapReport).toEqual({ seedsReached: 0, contacts: 0 });
    const joiner = await s.add();
    expect(joiner.bootstrapReport).toEqual({ seedsReached: 1, contacts: 1 });
    expect(s.nodes[0].contacts().map((c) => c.id)).toEqual([joiner.id]);
    await s.stop();
  });

  it('starts alone when no seed answers, and joins at the next refresh once one does', async () => {
    const s = await swarmOf(2);
    s.net.kill(s.nodes[0].endpoint);
    s.net.kill(s.nodes[1].endpoint);
    const late = await s.add({ seeds: [s.nodes[0].endpoint] });
    expect(late.bootstrapReport.seedsReached).toBe(0);
    s.net.revive(s.nodes[0].endpoint);
    s.net.revive(s.nodes[1].endpoint);
    await drive(s.vt, late.refresh());
    expect(late.contacts().length).toBeGreaterThan(0);
    await s.stop();
  });
});

describe('dht node - settling lookups after joining', () => {
  /** The seed's pings (its dial-backs) take this long: over the gateways, a new connection each. */
  const SLOW_DIAL_BACK_MS = 50;

  /** A seed, then two nodes joining through it at once: each asks the seed before it admitted the other. */
  async function twoJoinAtOnce() {
    const random = seededRandom(11);
    const vt = virtualTime(1_700_000_000_000);
    const net = createMemoryNetwork({ scheduler: vt.scheduler, random, latencyMs: 3, timeoutMs: TIMEOUT_MS });
    const start = (transport: DhtTransport, seeds: string[]) =>
      startDhtNode({ transport, clock: vt.clock, scheduler: vt.scheduler, random, validate: validateTestRecord }, { id: randomHexId(random), seeds });
    const seedTransport = net.transport('seed');
    const slowPings: DhtTransport = {
      ...seedTransport,
      endpoint: seedTransport.endpoint,
      ping: async (to, request) => {
        await vt.scheduler.sleep(SLOW_DIAL_BACK_MS);
        return seedTransport.ping(to, request);
      },
      store: (to, r) => seedTransport.store(to, r),
      findNode: (to, r) => seedTransport.findNode(to, r),
      findValue: (to, r) => seedTransport.findValue(to, r),
      listen: (h) => seedTransport.listen(h),
      close: () => seedTransport.close(),
    };
    const seed = await drive(vt, start(slowPings, []));
    const [a, b] = await drive(vt, Promise.all([start(net.transport('a'), ['seed']), start(net.transport('b'), ['seed'])]));
    const knows = (x: DhtNode, y: DhtNode) => x.contacts().some((c) => c.id === y.id);
    return { vt, net, seed, a, b, knows, stop: () => Promise.all([seed, a, b].map((n) => n.stop())) };
  }

  it('two nodes that joined at once through one seed know of each other a few seconds later, not at the next republish', async () => {
    const s = await twoJoinAtOnce();
    // The race this settles: neither learnt of the other at its bootstrap, though the seed knows both now.
    await s.vt.advance(2 * SLOW_DIAL_BACK_MS);
    expect([s.knows(s.a, s.b), s.knows(s.b, s.a), s.knows(s.seed, s.a), s.knows(s.seed, s.b)]).toEqual([false, false, true, true]);
    await s.vt.advance(DEFAULT_SETTLE_FIRST_MS);
    expect([s.knows(s.a, s.b), s.knows(s.b, s.a)]).toEqual([true, true]);
    await s.stop();
  });

  it('settles to one self lookup a minute, and finds a node that was cut off again once it is back', async () => {
    const s = await twoJoinAtOnce();
    await s.vt.advance(10 * 60 * 1000);
    s.net.resetStats();
    await s.vt.advance(10 * 60 * 1000);
    // Three nodes, each one self lookup a minute: a findNode to each of the two others.
    expect(s.net.stats().byRpc.findNode).toBe(3 * 2 * 10);
    // b is cut off for ten minutes: the others forget it (and it them) at their next lookups.
    s.net.kill(s.b.endpoint);
    await s.vt.advance(10 * 60 * 1000);
    expect([s.knows(s.a, s.b), s.knows(s.seed, s.b), s.b.contacts().length]).toEqual([false, false, 0]);
    // Back: it joins again through its seed at its next settling lookup, within a minute.
    s.net.revive(s.b.endpoint);
    await s.vt.advance(DEFAULT_SETTLE_MAX_MS + 2 * TIMEOUT_MS);
    expect([s.knows(s.a, s.b), s.knows(s.b, s.a)]).toEqual([true, true]);
    await s.stop();
  });
});

/** A bare endpoint that answers a ping as `remoteId()` and nothing else of use. */
function listenAnsweringPingAs(transport: DhtTransport, remoteId: () => string): void {
  transport.listen({
    ping: () => ({ remoteId: remoteId() }),
    store: () => ({ stored: false, refusal: 'no' }),
    findNode: () => ({ contacts: [] }),
    findValue: () => ({ values: [], contacts: [] }),
  });
}

describe('dht node - dial-back before a requester enters the table', () => {
  const others = (node: DhtNode, s: Swarm) => node.contacts().filter((c) => s.nodes.every((n) => n.id !== c.id));

  it('admits a requester only once its endpoint answers as it; a silent or lying endpoint never enters', async () => {
    const s = await swarmOf(1);
    const [node] = s.nodes;
    const random = seededRandom(99);
    // A sender at an endpoint where nothing listens: its claim is never checked out.
    const ghost = s.net.transport('ghost');
    await drive(s.vt, ghost.ping(node.endpoint, { id: randomHexId(random) }));
    // A sender whose endpoint answers, but as someone else.
    const liar = s.net.transport('liar');
    const liarId = randomHexId(random);
    listenAnsweringPingAs(liar, () => randomHexId(random));
    await drive(s.vt, liar.ping(node.endpoint, { id: liarId }));
    await s.vt.advance(2 * TIMEOUT_MS);
    expect(others(node, s)).toEqual([]);
    // An honest node joining through it, at its own endpoint, is admitted after the dial-back.
    const honest = await s.add();
    expect(node.contacts().map((c) => c.id)).toEqual([honest.id]);
    await s.stop();
  });

  it('never learns a requester whose endpoint replies could not carry (over 256 characters), and keeps answering others', async () => {
    const s = await swarmOf(1);
    const [node] = s.nodes;
    // Not the swarm's seed (7): another id than the node's own.
    const random = seededRandom(71);
    const long = s.net.transport(`long-${'x'.repeat(MAX_ENDPOINT_CHARS)}`);
    const longId = randomHexId(random);
    listenAnsweringPingAs(long, () => longId);
    // It is answered (it dials back fine), but never enters the table: a reply listing it would be refused whole.
    await drive(s.vt, long.ping(node.endpoint, { id: longId }));
    await s.vt.advance(2 * TIMEOUT_MS);
    expect(others(node, s)).toEqual([]);
    // An honest one is admitted as before.
    const honest = await s.add();
    expect(node.contacts().map((c) => c.id)).toEqual([honest.id]);
    await s.stop();
  });

  it('dials back a flood of claims at most a few at a time and not again while the endpoint cools down', async () => {
    const s = await swarmOf(1, {
      dialBack: { maxInFlight: 2, maxInFlightPerNetwork: 2, maxPerSecond: 100, failureCooldownMs: 60_000, maxRemembered: 100, maxPerHostPerSecond: 2 },
    });
    const [node] = s.nodes;
    const random = seededRandom(5);
    const senders = Array.from({ length: 10 }, (_, i) => s.net.transport(`claim-${i}`));
    s.net.resetStats();
    await drive(s.vt, Promise.all(senders.map((t) => t.ping(node.endpoint, { id: randomHexId(random) }))));
    await s.vt.advance(2 * TIMEOUT_MS);
    // 10 pings arrive together: 2 dial-backs go out, the other 8 claims are dropped.
    expect(s.net.stats().byRpc.ping).toBe(10 + 2);
    s.net.resetStats();
    // The same silent endpoints again, within the cooldown: no dial-back at all.
    await drive(s.vt, senders[0].ping(node.endpoint, { id: randomHexId(random) }));
    await s.vt.advance(2 * TIMEOUT_MS);
    expect(s.net.stats().byRpc.ping).toBe(1);
    expect(others(node, s)).toEqual([]);
    await s.stop();
  });
});

describe('dht node - k', () => {
  it('refuses a bucket size whose replies every node would refuse', async () => {
    await expect(swarmOf(1, { bucketSize: MAX_CONTACTS_PER_REPLY + 1 })).rejects.toThrow(`bucketSize must be at most ${MAX_CONTACTS_PER_REPLY}`);
  });
});

describe('dht node - dial-backs a second', () => {
  it('starts at most maxPerSecond dial-backs a second, however many new endpoints are claimed', async () => {
    const s = await swarmOf(1, {
      dialBack: { maxInFlight: 100, maxInFlightPerNetwork: 100, maxPerSecond: 3, failureCooldownMs: 60_000, maxRemembered: 100, maxPerHostPerSecond: 2 },
    });
    const [node] = s.nodes;
    const random = seededRandom(6);
    let next = 0;
    const claim = (n: number) =>
      drive(s.vt, Promise.all(Array.from({ length: n }, () => s.net.transport(`claim-${(next += 1)}`).ping(node.endpoint, { id: randomHexId(random) }))));
    s.net.resetStats();
    // 10 claims of 10 endpoints: 3 dialled (the burst), 7 dropped.
    await claim(10);
    expect(s.net.stats().byRpc.ping).toBe(10 + 3);
    s.net.resetStats();
    // A tenth of a second on, a third of a dial-back has come back: none goes out.
    await s.vt.advance(100);
    await claim(1);
    expect(s.net.stats().byRpc.ping).toBe(1);
    s.net.resetStats();
    // A second on, the burst again.
    await s.vt.advance(1_000);
    await claim(10);
    expect(s.net.stats().byRpc.ping).toBe(10 + 3);
    await s.vt.advance(2 * TIMEOUT_MS);
    await s.stop();
  });
});

describe('dht node - dial-backs a second to one host', () => {
  it('shares maxPerHostPerSecond among the claims of one host the transport names (hostOf), leaving other hosts theirs', async () => {
    const s = await swarmOf(1, {
      dialBack: { maxInFlight: 100, maxInFlightPerNetwork: 100, maxPerSecond: 100, failureCooldownMs: 60_000, maxRemembered: 100, maxPerHostPerSecond: 2 },
      hostOf: (endpoint) => endpoint.split('-')[0],
    });
    const [node] = s.nodes;
    const random = seededRandom(8);
    const claim = (names: string[]) => drive(s.vt, Promise.all(names.map((name) => s.net.transport(name).ping(node.endpoint, { id: randomHexId(random) }))));
    s.net.resetStats();
    // Ten ports of one host: 2 dialled back; three other hosts: each dialled back.
    await claim(Array.from({ length: 10 }, (_, i) => `victim-${i}`));
    await claim(['a-1', 'b-1', 'c-1']);
    expect(s.net.stats().byRpc.ping).toBe(13 + 2 + 3);
    await s.vt.advance(2 * TIMEOUT_MS);
    await s.stop();
  });
});

describe('dht node - providers', () => {
  it('finds every provider of a skill from any node', async () => {
    const s = await swarmOf(24);
    const providers = [s.nodes[3], s.nodes[11], s.nodes[20]];
    for (const p of providers) await drive(s.vt, p.provide('matmul', recordFor(s, p)));
    for (const from of [s.nodes[0], s.nodes[7], s.nodes[23]]) {
      const result = await drive(s.vt, from.findProviders('matmul'));
      expect(result.values.map(providerOfTestRecord).sort()).toEqual(providers.map((p) => p.id).sort());
      expect(result.messages).toBeGreaterThanOrEqual(0);
    }
    expect((await drive(s.vt, s.nodes[5].findProviders('unknown-skill'))).values).toEqual([]);
    await s.stop();
  });

  it('lets a lone node find its own record', async () => {
    const s = await swarmOf(1);
    const lone = s.nodes[0];
    expect((await drive(s.vt, lone.provide('vecadd', recordFor(s, lone)))).stored).toBe(1);
    expect((await drive(s.vt, lone.findProviders('vecadd'))).values.map(providerOfTestRecord)).toEqual([lone.id]);
    await s.stop();
  });

  it('reports the messages a lookup sent, as the network counted them', async () => {
    const s = await swarmOf(16);
    await drive(s.vt, s.nodes[2].provide('k', recordFor(s, s.nodes[2])));
    s.net.resetStats();
    const result = await drive(s.vt, s.nodes[9].findProviders('k'));
    expect(result.messages).toBe(s.net.stats().requests);
    await s.stop();
  });

  it('refuses to provide a record its own validator refuses', async () => {
    const s = await swarmOf(1);
    const err = await drive(
      s.vt,
      s.nodes[0].provide('k', () => testRecord('someone-else', 0, Number.MAX_SAFE_INTEGER, 'forged')),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwarmError);
    expect((err as SwarmError).code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    await s.stop();
  });
});

describe('dht node - stores only what the validator accepts', () => {
  it('refuses forged, replayed and expired records and keeps the provider s own', async () => {
    const s = await swarmOf(2);
    const [holder, owner] = s.nodes;
    const now = s.vt.clock.now();
    const attacker = s.net.transport('attacker');
    const send = (value: Uint8Array) => drive(s.vt, attacker.store(holder.endpoint, { id: 'f'.repeat(40), key: 'k', value }));
    expect(await send(testRecord(owner.id, now, now + HOUR_MS))).toEqual({ stored: true, refusal: '' });
    expect(await send(testRecord(owner.id, now + 1, now + HOUR_MS, 'forged'))).toEqual({ stored: false, refusal: 'bad proof' });
    expect(await send(testRecord(owner.id, now - 1, now + 2 * HOUR_MS))).toEqual({ stored: false, refusal: 'a newer record of this provider is held' });
    expect(await send(testRecord('other', now - 2, now - 1))).toEqual({ stored: false, refusal: 'expired' });
    const found = await drive(s.vt, attacker.findValue(holder.endpoint, { id: 'f'.repeat(40), targetId: holder.id, key: 'k' }));
    expect(found.values).toEqual([testRecord(owner.id, now, now + HOUR_MS)]);
    await s.stop();
  });

  it("answers a provider's highest ranked record of those the holders hold, not a lower one signed later where a holder never had the higher", async () => {
    const s = await swarmOf(6);
    const [reader, owner, ...holders] = s.nodes;
    const now = s.vt.clock.now();
    const attacker = s.net.transport('attacker');
    const storeOn = (holder: DhtNode, value: Uint8Array) => drive(s.vt, attacker.store(holder.endpoint, { id: 'f'.repeat(40), key: 'ranked', value }));
    const high = testRecord(owner.id, now, now + HOUR_MS, undefined, 5n);
    const lower = testRecord(owner.id, now + 1_000, now + 2 * HOUR_MS, undefined, 4n);
    for (const holder of holders.slice(0, 3)) expect(await storeOn(holder, high)).toMatchObject({ stored: true });
    expect(await storeOn(holders[0], lower)).toMatchObject({ stored: false });
    expect(await storeOn(holders[3], lower)).toMatchObject({ stored: true });
    const found = await drive(s.vt, reader.findProviders('ranked', { holders: 4, complete: true }));
    expect(found.values).toEqual([high]);
    await s.stop();
  });

  it('answers a malformed request with INVALID_ARGUMENT and stores nothing', async () => {
    const s = await swarmOf(1);
    const holder = s.nodes[0];
    const attacker = s.net.transport('attacker');
    const bad = [
      { id: 'nothex', key: 'k', value: new Uint8Array(1) },
      { id: 'f'.repeat(40), key: '', value: new Uint8Array(1) },
      { id: 'f'.repeat(40), key: 'k', value: 'not bytes' },
    ];
    for (const request of bad) {
      const err = await drive(s.vt, attacker.store(holder.endpoint, request as never)).catch((e: unknown) => e);
      expect((err as SwarmError).code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    }
    const tooBig = await drive(s.vt, attacker.store(holder.endpoint, { id: 'f'.repeat(40), key: 'k', value: new Uint8Array(17 * 1024) })).catch((e: unknown) => e);
    expect((tooBig as SwarmError).code).toBe(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE);
    expect((await drive(s.vt, attacker.findValue(holder.endpoint, { id: 'f'.repeat(40), targetId: holder.id, key: 'k' }))).values).toEqual([]);
    await s.stop();
  });
});

describe('dht node - expiry and republish', () => {
  it('stops returning a record once it expires, and its owner republishes before that', async () => {
    const s = await swarmOf(8, { sweepIntervalMs: 60_000, refreshIntervalMs: HOUR_MS });
    const [owner, gone] = [s.nodes[1], s.nodes[2]];
    await drive(s.vt, owner.provide('kept', recordFor(s, owner, 10 * 60_000)));
    await drive(s.vt, gone.provide('lapsed', recordFor(s, gone, 10 * 60_000)));
    gone.withdraw('lapsed');
    await s.vt.advance(30 * 60_000);
    expect((await drive(s.vt, s.nodes[6].findProviders('kept'))).values.map(providerOfTestRecord)).toEqual([owner.id]);
    expect((await drive(s.vt, s.nodes[6].findProviders('lapsed'))).values).toEqual([]);
    await s.stop();
  });

  it('hears as many holders as asked before it stops: records held apart are all found with more', async () => {
    // Fewer nodes than a bucket holds: every one is among the closest to any key.
    const s = await swarmOf(6, { bucketSize: 8 });
    const attacker = s.net.transport('attacker');
    const now = s.vt.clock.now();
    // Five records of five providers, each held by one node only.
    const providers = ['p1', 'p2', 'p3', 'p4', 'p5'];
    for (const [i, p] of providers.entries()) {
      await drive(s.vt, attacker.store(s.nodes[i + 1].endpoint, { id: 'f'.repeat(40), key: 'apart', value: testRecord(p, now, now + HOUR_MS) }));
    }
    const found = async (holders?: number) =>
      (await drive(s.vt, s.nodes[0].findProviders('apart', holders === undefined ? undefined : { holders }))).values.map(providerOfTestRecord).sort();
    // By default a lookup stops at the first replies holding records (α = 3 asked at once).
    expect((await found()).length).toBeLessThan(providers.length);
    expect(await found(6)).toEqual(providers);
    await s.stop();
  });

  it('reads every record of a key whose records overflow a reply when asked for them all (complete), page by page', async () => {
    const s = await swarmOf(6, { bucketSize: 8 });
    const now = s.vt.clock.now();
    // 200 records of about 1 KB under one key on every node but the reader: 200 KB, where a reply carries 64 KiB.
    const padding = new TextEncoder().encode(`|${'x'.repeat(1_000)}`);
    const providers = Array.from({ length: 200 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    const attacker = s.net.transport('attacker');
    for (const node of s.nodes.slice(1)) {
      for (const p of providers)
        await drive(s.vt, attacker.store(node.endpoint, { id: 'f'.repeat(40), key: 'full', value: Buffer.concat([testRecord(p, now, now + HOUR_MS), padding]) }));
    }
    const found = async (complete: boolean) => {
      const run = await drive(s.vt, s.nodes[0].findProviders('full', { holders: 1, complete }));
      return { providers: run.values.map(providerOfTestRecord).sort(), messages: run.messages, cutOff: run.cutOff };
    };
    // One reply is a random selection of what fits: a record could be hidden behind the others.
    expect((await found(false)).providers.length).toBeLessThan(150);
    const all = await found(true);
    // Its full pages are marked pages: the answer is whole (not read as an older node's cut reply).
    expect({ providers: all.providers, cutOff: all.cutOff }).toEqual({ providers, cutOff: 0 });
    await s.stop();
  });

  it("cuts off a holder whose pages outlast the lookup's time for them: not a failed contact, its records reported missing", async () => {
    const s = await swarmOf(3, { bucketSize: 8 });
    // Honest but slow: each page 0.4 s (a far link, a loaded node), 25 pages of 8 KB records.
    const slow = await s.add({}, (t) => ({
      ...t,
      listen: (handlers) =>
        t.listen({
          ...handlers,
          findValue: async (from, req, net) => {
            if (req.paged) await new Promise<void>((resolve) => s.vt.scheduler.setTimer(400, resolve));
            return handlers.findValue(from, req, net);
          },
        }),
    }));
    const now = s.vt.clock.now();
    const padding = new TextEncoder().encode(`|${'x'.repeat(8_000)}`);
    const storer = s.net.transport('storer');
    for (let i = 0; i < 200; i++) {
      const value = Buffer.concat([testRecord(`p${String(i).padStart(3, '0')}`, now, now + HOUR_MS), padding]);
      await drive(s.vt, storer.store(slow.endpoint, { id: 'f'.repeat(40), key: 'slow', value }));
    }
    const run = await drive(s.vt, s.nodes[0].findProviders('slow', { holders: 1, complete: true }));
    expect({ values: run.values.length, cutOff: run.cutOff, failures: run.failures, stillKnown: s.nodes[0].contacts().some((c) => c.id === slow.id) }).toEqual({
      values: 0,
      cutOff: 1,
      failures: 0,
      stillKnown: true,
    });
    await s.stop();
  });

  it('reads a holder from before pages (its one reply not marked a page) as whole when it is too small to have been cut, and as short, its records kept, when it may have been', async () => {
    const s = await swarmOf(3, { bucketSize: 8 });
    // An older node: whatever it is asked, it answers one random selection of what fits in a reply, with no page mark.
    const older = await s.add({}, (t) => ({
      ...t,
      listen: (handlers) => t.listen({ ...handlers, findValue: async (from, req, net) => handlers.findValue(from, { ...req, paged: false, after: '' }, net) }),
    }));
    const now = s.vt.clock.now();
    const storer = s.net.transport('storer');
    const padding = new TextEncoder().encode(`|${'x'.repeat(1_000)}`);
    const store = async (key: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const value = Buffer.concat([testRecord(`p${String(i).padStart(3, '0')}`, now, now + HOUR_MS), padding]);
        await drive(s.vt, storer.store(older.endpoint, { id: 'f'.repeat(40), key, value }));
      }
    };
    // 40 records of about 1 KB: under WHOLE_UNPAGED_REPLY_BYTES, so nothing can have been left out.
    await store('few', 40);
    // 60 records (about 60 KB): under a reply's 64 KiB, yet a reply this full may be one cut from more.
    await store('full', 60);
    const read = async (key: string) => {
      const run = await drive(s.vt, s.nodes[0].findProviders(key, { holders: 1, complete: true }));
      return { records: run.values.length, cutOff: run.cutOff, failures: run.failures };
    };
    expect(await read('few')).toEqual({ records: 40, cutOff: 0, failures: 0 });
    expect(await read('full')).toEqual({ records: 60, cutOff: 1, failures: 0 });
    await s.stop();
  });

  it('cuts off a holder whose pages go back (or never end): none of its records taken, and the answer says it is short', async () => {
    const s = await swarmOf(3, { bucketSize: 8 });
    // Its replies to a paged read always name a next page after 'a': the second one goes back.
    const liar = await s.add({}, (t) => ({
      ...t,
      listen: (handlers) => t.listen({ ...handlers, findValue: async (from, req, net) => ({ ...(await handlers.findValue(from, req, net)), moreAfter: req.paged ? 'a' : '' }) }),
    }));
    const now = s.vt.clock.now();
    await drive(s.vt, s.net.transport('attacker').store(liar.endpoint, { id: 'f'.repeat(40), key: 'liar', value: testRecord('p1', now, now + HOUR_MS) }));
    const read = (complete: boolean) => drive(s.vt, s.nodes[0].findProviders('liar', { holders: 1, complete }));
    expect((await read(false)).values.map(providerOfTestRecord)).toEqual(['p1']);
    const paged = await read(true);
    expect({ values: paged.values, cutOff: paged.cutOff }).toEqual({ values: [], cutOff: 1 });
    await s.stop();
  });

  it('stores a record once on the closest nodes, each newer one replacing its last, and never republishes it', async () => {
    const s = await swarmOf(8, { sweepIntervalMs: 60_000, refreshIntervalMs: HOUR_MS });
    const [maker, reader] = [s.nodes[3], s.nodes[6]];
    const first = testRecord(maker.id, s.vt.clock.now(), s.vt.clock.now() + 10 * 60_000);
    const report = await drive(s.vt, maker.store('sighting/p', first));
    expect(report.stored).toBeGreaterThan(1);
    expect((await drive(s.vt, reader.findProviders('sighting/p'))).values).toEqual([first]);
    await s.vt.advance(60_000);
    const second = testRecord(maker.id, s.vt.clock.now(), s.vt.clock.now() + 10 * 60_000);
    await drive(s.vt, maker.store('sighting/p', second));
    expect((await drive(s.vt, reader.findProviders('sighting/p'))).values).toEqual([second]);
    // Refused as its validator refuses it; stored nowhere.
    const forged = testRecord(maker.id, s.vt.clock.now() + 1, s.vt.clock.now() + 10 * 60_000, 'forged');
    expect(await drive(s.vt, maker.store('sighting/p', forged))).toMatchObject({ stored: 0 });
    // Past its expiry nobody holds it: nothing republished it.
    await s.vt.advance(30 * 60_000);
    expect((await drive(s.vt, reader.findProviders('sighting/p'))).values).toEqual([]);
    await s.stop();
  });
});

describe('dht node - refresh', () => {
  it('looks up only buckets no lookup targeted within the interval', async () => {
    const s = await swarmOf(12, { maintenance: false });
    const node = s.nodes[5];
    await s.vt.advance(2 * HOUR_MS);
    const first = await drive(s.vt, node.refresh());
    expect(first.lookups).toBeGreaterThan(1);
    expect((await drive(s.vt, node.refresh())).lookups).toBe(0);
    await s.vt.advance(HOUR_MS / 2);
    const farthest = node.contacts().at(-1)?.id ?? '';
    await drive(s.vt, node.findClosest(farthest));
    await s.vt.advance(HOUR_MS / 2);
    // The self lookup and every bucket are due again, but for the farthest one: a lookup targeted it half an hour ago.
    expect((await drive(s.vt, node.refresh())).lookups).toBe(first.lookups - 1);
    await s.stop();
  });

  it('skips the buckets its self lookup covered: it met every node deeper than its k closest', async () => {
    const s = await swarmOf(40, { maintenance: false, bucketSize: 4 });
    await s.vt.advance(2 * HOUR_MS);
    let lookups = 0;
    let everyBucket = 0;
    for (const node of s.nodes) {
      const self = idFromHex(node.id);
      const cpl = (c: { id: string }) => commonPrefixLength(self, idFromHex(c.id));
      const report = await drive(s.vt, node.refresh());
      const shallowestOfClosest = Math.min(...(await drive(s.vt, node.findClosest(node.id))).contacts.filter((c) => c.id !== node.id).map(cpl));
      expect(report.lookups).toBeLessThanOrEqual(shallowestOfClosest + 2); // itself, then buckets 0..shallowest
      lookups += report.lookups;
      everyBucket += Math.max(...node.contacts().map(cpl)) + 2; // itself, then every bucket to the deepest contact
    }
    expect(lookups).toBeLessThan(everyBucket);
    for (const node of s.nodes) expect((await drive(s.vt, node.refresh())).lookups).toBe(0);
    await s.stop();
  });

  it('refreshes stale buckets on its own timer when maintenance is on', async () => {
    const s = await swarmOf(12);
    s.net.resetStats();
    await s.vt.advance(HOUR_MS + 1);
    expect(s.net.stats().byRpc.findNode).toBeGreaterThan(0);
    expect((await drive(s.vt, s.nodes[5].refresh())).lookups).toBe(0);
    await s.stop();
  });

  it('forgets dead contacts as lookups fail, and still finds providers after a third of the nodes die', async () => {
    const s = await swarmOf(30, { bucketSize: 6 });
    const provider = s.nodes[4];
    await drive(s.vt, provider.provide('k', recordFor(s, provider)));
    const dead = s.nodes.filter((n, i) => i % 3 === 0 && n !== provider);
    for (const n of dead) s.net.kill(n.endpoint);
    const asker = s.nodes[1];
    await s.vt.advance(HOUR_MS);
    await drive(s.vt, asker.refresh());
    const deadIds = new Set(dead.map((n) => n.id));
    const result = await drive(s.vt, asker.findProviders('k'));
    expect(result.values.map(providerOfTestRecord)).toEqual([provider.id]);
    const known = asker.contacts().map((c) => c.id);
    expect(known.filter((id) => deadIds.has(id)).length).toBeLessThan(dead.length);
    await s.stop();
  });

  it('rejects calls after stop', async () => {
    const s = await swarmOf(1);
    await s.nodes[0].stop();
    await expect(s.nodes[0].findProviders('k')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
  });
});

/**
 * ATTACK (helper-165): a complete read takes any first reply without the page mark as an older
 * node's one random selection and never follows its `moreAfter`, although a node from before pages
 * cannot set `moreAfter` (field 3 was added with pages). A holder from between pages and the mark
 * (fc530a5..1f2f410) pages honestly: its first page is over 48 KiB whenever more follow, so each
 * read of it is cut off and no payee clears a payer whose key is over 64 KiB there until every such
 * node is upgraded — the "swarm upgrades all its nodes together" of issue 14, one version on.
 */
describe('ATTACK: dht node - a reply that names a next page but carries no page mark', () => {
  const padding = new TextEncoder().encode(`|${'x'.repeat(1_000)}`);

  it('keeps reading the pages of a holder that pages without the mark (a node from before the mark): every record, the answer whole', async () => {
    const s = await swarmOf(3, { bucketSize: 8 });
    // Pages honestly, as fc530a5..1f2f410 did, but does not mark them.
    const between = await s.add({}, (t) => ({
      ...t,
      listen: (handlers) => t.listen({ ...handlers, findValue: async (from, req, net) => ({ ...(await handlers.findValue(from, req, net)), paged: false }) }),
    }));
    const now = s.vt.clock.now();
    const storer = s.net.transport('storer');
    const providers = Array.from({ length: 120 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    for (const p of providers)
      await drive(s.vt, storer.store(between.endpoint, { id: 'f'.repeat(40), key: 'big', value: Buffer.concat([testRecord(p, now, now + HOUR_MS), padding]) }));
    const run = await drive(s.vt, s.nodes[0].findProviders('big', { holders: 1, complete: true }));
    expect({ providers: run.values.map(providerOfTestRecord).sort(), cutOff: run.cutOff }).toEqual({ providers, cutOff: 0 });
    await s.stop();
  });

  it('refuses to take an unmarked reply that names a next page as a whole answer', async () => {
    const s = await swarmOf(3, { bucketSize: 8 });
    const now = s.vt.clock.now();
    const first = Array.from({ length: 10 }, (_, i) => testRecord(`q${String(i).padStart(3, '0')}`, now, now + HOUR_MS));
    const rest = Array.from({ length: 10 }, (_, i) => testRecord(`r${String(i).padStart(3, '0')}`, now, now + HOUR_MS));
    // Small (well under 48 KiB), unmarked, and saying more follow after q009.
    await s.add({}, (t) => ({
      ...t,
      listen: (handlers) =>
        t.listen({
          ...handlers,
          findValue: async (from, req, net) => {
            const honest = await handlers.findValue(from, req, net);
            if (req.key !== 'odd') return honest;
            return (req.after ?? '') === ''
              ? { values: first, contacts: honest.contacts, moreAfter: 'q009', paged: false }
              : { values: rest, contacts: honest.contacts, moreAfter: '', paged: false };
          },
        }),
    }));
    const run = await drive(s.vt, s.nodes[0].findProviders('odd', { holders: 1, complete: true }));
    // Read on to its second page: every record it named, never its first ten passed off as all.
    expect({ records: run.values.length, cutOff: run.cutOff }).toEqual({ records: 20, cutOff: 0 });
    await s.stop();
  });
});
