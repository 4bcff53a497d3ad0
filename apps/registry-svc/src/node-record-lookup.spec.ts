import { ErrorCode } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { ProvidersResult } from '@swarm/dht';
import { silentLogger } from '@swarm/telemetry';
import type { NodeRecordLookup } from './node-record-lookup';
import { createNodeRecordLookup, FOUND_FRESH_MS, MAX_CACHED_NODES, MAX_CONCURRENT_LOOKUPS, MISSING_FRESH_MS, NODE_LOOKUP_BUDGET_MS } from './node-record-lookup';
import { nodeRecordKey } from './provider-record';
import { createTestSigner, signTestRecord, TEST_POW_DIFFICULTY } from './test-fixtures/test-signer';

const NOW = 1_800_000_000_000;
const alice = createTestSigner();
const bob = createTestSigner();

describe('node record lookup - FindNodeRecord on the DHT', () => {
  let vt: VirtualTime;
  /** What the DHT answers per key; a key not listed: no records, after asking 3 contacts. */
  let dht: Map<string, ProvidersResult | Promise<ProvidersResult>>;
  let asked: string[];
  let lookup: NodeRecordLookup;

  beforeEach(() => {
    vt = virtualTime(NOW);
    dht = new Map();
    asked = [];
    lookup = createNodeRecordLookup({
      findProviders: async (key) => {
        asked.push(key);
        return (await dht.get(key)) ?? result([]);
      },
      powDifficulty: TEST_POW_DIFFICULTY,
      ...vt,
      log: silentLogger(),
    });
  });

  const result = (values: Uint8Array[], messages = 3, failures = 0): ProvidersResult => ({
    values,
    remoteHolders: [values],
    cutOff: 0,
    messages,
    failures,
    hops: 1,
    answered: messages - failures,
  });

  it('finds a node with a valid record, and trusts it for FOUND_FRESH_MS without asking again', async () => {
    const record = signTestRecord(alice, vt.clock, { skills: [], gatewayAddress: '10.0.0.7:7400', ttlMs: 10 * 60_000 });
    dht.set(nodeRecordKey(alice.nodeId), result([record.bytes]));
    await expect(lookup.find(alice.nodeId)).resolves.toEqual({ found: true, expiresAtMs: BigInt(NOW + 10 * 60_000), gatewayAddress: '10.0.0.7:7400' });
    await vt.advance(FOUND_FRESH_MS - 1);
    await lookup.find(alice.nodeId);
    expect(asked).toEqual([nodeRecordKey(alice.nodeId)]);
    await vt.advance(1);
    await lookup.find(alice.nodeId);
    expect(asked).toHaveLength(2);
  });

  it('answers the newest record when the DHT holds several', async () => {
    const older = signTestRecord(alice, vt.clock, { gatewayAddress: '10.0.0.1:7400' });
    await vt.advance(10);
    const newer = signTestRecord(alice, vt.clock, { gatewayAddress: '10.0.0.2:7400', previous: older.record });
    dht.set(nodeRecordKey(alice.nodeId), result([newer.bytes, older.bytes]));
    await expect(lookup.find(alice.nodeId)).resolves.toMatchObject({ found: true, gatewayAddress: '10.0.0.2:7400' });
  });

  it('never answers found past the record expiry, and not found once the DHT holds only the expired record', async () => {
    const record = signTestRecord(alice, vt.clock, { ttlMs: 10_000 });
    dht.set(nodeRecordKey(alice.nodeId), result([record.bytes]));
    await expect(lookup.find(alice.nodeId)).resolves.toMatchObject({ found: true });
    await vt.advance(10_000);
    await expect(lookup.find(alice.nodeId)).resolves.toEqual({ found: false, expiresAtMs: 0n, gatewayAddress: '' });
    expect(asked).toHaveLength(2);
  });

  it('answers not found for a node with no record, or only records that do not verify, and keeps a miss for MISSING_FRESH_MS', async () => {
    const bobs = signTestRecord(bob, vt.clock);
    const tampered = signTestRecord(alice, vt.clock).bytes.slice();
    tampered[tampered.length - 70] ^= 1;
    dht.set(nodeRecordKey(alice.nodeId), result([bobs.bytes, tampered, new Uint8Array([1, 2, 3])]));
    await expect(lookup.find(alice.nodeId)).resolves.toEqual({ found: false, expiresAtMs: 0n, gatewayAddress: '' });
    await expect(lookup.find(bob.nodeId)).resolves.toMatchObject({ found: false });
    await vt.advance(MISSING_FRESH_MS - 1);
    await lookup.find(bob.nodeId);
    expect(asked).toEqual([nodeRecordKey(alice.nodeId), nodeRecordKey(bob.nodeId)]);
    // Bob publishes: he is found once the miss is forgotten.
    dht.set(nodeRecordKey(bob.nodeId), result([signTestRecord(bob, vt.clock).bytes]));
    await vt.advance(1);
    await expect(lookup.find(bob.nodeId)).resolves.toMatchObject({ found: true });
  });

  it('answers UNAVAILABLE, keeping nothing, when the lookup reached no peer', async () => {
    dht.set(nodeRecordKey(alice.nodeId), result([], 3, 3));
    await expect(lookup.find(alice.nodeId)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true, message: expect.stringMatching(/reached no peer/) });
    dht.set(nodeRecordKey(alice.nodeId), result([], 0, 0));
    await expect(lookup.find(alice.nodeId)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    dht.set(nodeRecordKey(alice.nodeId), result([signTestRecord(alice, vt.clock).bytes], 3, 3));
    await expect(lookup.find(alice.nodeId)).resolves.toMatchObject({ found: true });
    expect(asked).toHaveLength(3);
  });

  it('refuses an id that is not 64 lowercase hex, quoting none of it, and looks nothing up', async () => {
    for (const id of ['', 'abc', alice.nodeId.toUpperCase(), `${alice.nodeId}/x`, 'f'.repeat(4 << 20)]) {
      const err = await lookup.find(id).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        message: expect.stringMatching(/^node_id must be 64 lowercase hex characters, got \d+ characters$/),
      });
    }
    expect(asked).toEqual([]);
  });

  it('shares one lookup among concurrent asks; one that runs long answers UNAVAILABLE and its result serves the next ask', async () => {
    let finish: (r: ProvidersResult) => void = () => undefined;
    dht.set(nodeRecordKey(alice.nodeId), new Promise<ProvidersResult>((resolve) => (finish = resolve)));
    const first = lookup.find(alice.nodeId).catch((e: unknown) => e);
    const second = lookup.find(alice.nodeId).catch((e: unknown) => e);
    await vt.advance(NODE_LOOKUP_BUDGET_MS);
    for (const answer of [await first, await second]) {
      expect(answer).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: expect.stringMatching(new RegExp(`did not finish within ${NODE_LOOKUP_BUDGET_MS} ms`)) });
    }
    finish(result([signTestRecord(alice, vt.clock).bytes]));
    await vt.advance(0);
    await expect(lookup.find(alice.nodeId)).resolves.toMatchObject({ found: true });
    expect(asked).toEqual([nodeRecordKey(alice.nodeId)]);
  });

  it(`runs at most ${MAX_CONCURRENT_LOOKUPS} lookups at once, telling further askers OVERLOADED`, async () => {
    const ids = Array.from({ length: MAX_CONCURRENT_LOOKUPS + 1 }, (_, i) => i.toString(16).padStart(64, '0'));
    for (const id of ids.slice(0, -1)) dht.set(nodeRecordKey(id), new Promise<ProvidersResult>(() => undefined));
    const stuck = ids.slice(0, -1).map((id) => lookup.find(id).catch((e: unknown) => e));
    await expect(lookup.find(ids[MAX_CONCURRENT_LOOKUPS])).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true });
    await vt.advance(NODE_LOOKUP_BUDGET_MS);
    for (const answer of await Promise.all(stuck)) expect(answer).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
  });

  it(`keeps at most ${MAX_CACHED_NODES} answers, dropping the oldest`, async () => {
    const ids = Array.from({ length: MAX_CACHED_NODES + 1 }, (_, i) => i.toString(16).padStart(64, '0'));
    for (const id of ids) await lookup.find(id);
    await lookup.find(ids[MAX_CACHED_NODES]);
    expect(asked).toHaveLength(MAX_CACHED_NODES + 1);
    await lookup.find(ids[0]);
    expect(asked).toHaveLength(MAX_CACHED_NODES + 2);
  });
});
