import type { BusClient } from '@swarm/bus';
import type { FindNodeRecordResponse } from '@swarm/contracts';
import { ErrorCode, RegistryNodeRecord, SwarmError } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import { createSubmitterRecords, LOOKUP_LIMITS, MAX_CACHED_SUBMITTERS, NODE_RECORD_TIMEOUT_MS, SUBMITTER_RECORD_FRESH_MS } from './submitter-records';

const NOW = 1_800_000_000_000;
const ALICE = 'a'.repeat(64);
const NET = '203.0.113.0/24';
/** Budgets no test below reaches, but the one about them. */
const ROOMY = { perPeer: { perSecond: 1e6, burst: 1e6 }, perNetwork: { perSecond: 1e6, burst: 1e6 }, maxKeys: 1e6 };

/** A registry answering from `records` (node id -> expiry), or failing with `failure` when set. */
function registryBus(records: Map<string, number>) {
  const asked: Array<{ nodeId: string; timeoutMs?: number }> = [];
  const state: { failure?: Error } = {};
  const bus: BusClient = {
    request: async (rpc, req, opts) => {
      if (rpc.subject !== RegistryNodeRecord.subject) throw new Error(`unexpected ${rpc.subject}`);
      const { nodeId } = req as { nodeId: string };
      asked.push({ nodeId, timeoutMs: opts?.timeoutMs });
      await new Promise((resolve) => setImmediate(resolve));
      if (state.failure) throw state.failure;
      const expires = records.get(nodeId);
      const answer: FindNodeRecordResponse = { found: expires !== undefined, expiresAtMs: BigInt(expires ?? 0), gatewayAddress: expires ? '10.0.0.1:7400' : '' };
      return answer as never;
    },
    requestAcked: () => Promise.reject(new Error('not used')),
    publish: () => undefined,
    subscribe: () => {
      throw new Error('not used');
    },
  };
  return { bus, asked, state };
}

describe('gateway-svc - submitter records', () => {
  it('lets in a node whose record is found, asking the registry once per SUBMITTER_RECORD_FRESH_MS, concurrent tasks sharing one question', async () => {
    const clock = manualClock(NOW);
    const stopwatch = manualClock(0);
    const { bus, asked } = registryBus(new Map([[ALICE, NOW + 3_600_000]]));
    const submitters = createSubmitterRecords(bus, clock, stopwatch, ROOMY);
    await Promise.all([submitters.require(ALICE, NET), submitters.require(ALICE, NET), submitters.require(ALICE, NET)]);
    expect(asked).toEqual([{ nodeId: ALICE, timeoutMs: NODE_RECORD_TIMEOUT_MS }]);
    stopwatch.advance(SUBMITTER_RECORD_FRESH_MS - 1);
    await submitters.require(ALICE, NET);
    expect(asked).toHaveLength(1);
    stopwatch.advance(1);
    await submitters.require(ALICE, NET);
    expect(asked).toHaveLength(2);
  });

  it('asks again once the record it found has expired, and refuses the node when the registry no longer finds it', async () => {
    const clock = manualClock(NOW);
    const records = new Map([[ALICE, NOW + 1_000]]);
    const { bus, asked } = registryBus(records);
    const submitters = createSubmitterRecords(bus, clock, manualClock(0), ROOMY);
    await submitters.require(ALICE, NET);
    clock.advance(1_000);
    records.delete(ALICE);
    await expect(submitters.require(ALICE, NET)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED });
    expect(asked).toHaveLength(2);
  });

  it('refuses a node with no record with PERMISSION_DENIED and a short id, and keeps no miss (a node that publishes gets in next time)', async () => {
    const records = new Map<string, number>();
    const { bus, asked } = registryBus(records);
    const submitters = createSubmitterRecords(bus, manualClock(NOW), manualClock(0), ROOMY);
    const err = await submitters.require(ALICE, NET).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
      message: `node ${'a'.repeat(12)}… has no valid record on the DHT: only nodes of the swarm may submit tasks here`,
    });
    records.set(ALICE, NOW + 60_000);
    await expect(submitters.require(ALICE, NET)).resolves.toBeUndefined();
    expect(asked).toHaveLength(2);
  });

  it('answers UNAVAILABLE when the registry does not answer or times out, and passes its OVERLOADED on', async () => {
    const { bus, state } = registryBus(new Map([[ALICE, NOW + 60_000]]));
    const submitters = createSubmitterRecords(bus, manualClock(NOW), manualClock(0), ROOMY);
    for (const code of [ErrorCode.ERROR_CODE_UNAVAILABLE, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, ErrorCode.ERROR_CODE_INTERNAL]) {
      state.failure = new SwarmError(code, 'x'.repeat(10_000));
      const err = (await submitters.require(ALICE, NET).catch((e: unknown) => e)) as SwarmError;
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true, message: expect.stringMatching(/cannot check the record of node a{12}…/) });
      expect(err.message.length).toBeLessThan(300);
    }
    state.failure = new Error('socket closed');
    await expect(submitters.require(ALICE, NET)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: expect.stringMatching(/: no answer$/) });
    state.failure = new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy', true);
    await expect(submitters.require(ALICE, NET)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED });
    state.failure = undefined;
    await expect(submitters.require(ALICE, NET)).resolves.toBeUndefined();
  });

  it(`keeps at most ${MAX_CACHED_SUBMITTERS} found records, dropping the oldest`, async () => {
    const ids = Array.from({ length: MAX_CACHED_SUBMITTERS + 1 }, (_, i) => i.toString(16).padStart(64, '0'));
    const { bus, asked } = registryBus(new Map(ids.map((id) => [id, NOW + 60_000])));
    const submitters = createSubmitterRecords(bus, manualClock(NOW), manualClock(0), ROOMY);
    for (const id of ids) await submitters.require(id, NET);
    await submitters.require(ids[MAX_CACHED_SUBMITTERS], NET);
    expect(asked).toHaveLength(MAX_CACHED_SUBMITTERS + 1);
    await submitters.require(ids[0], NET);
    expect(asked).toHaveLength(MAX_CACHED_SUBMITTERS + 2);
  });

  it('looks up unknown nodes only so often per node and per network, refusing the rest OVERLOADED with when to retry, while known nodes and joined questions cost nothing', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => (i + 1).toString(16).padStart(64, '0'));
    const { bus, asked } = registryBus(new Map([[ALICE, NOW + 3_600_000]]));
    const stopwatch = manualClock(0);
    const submitters = createSubmitterRecords(bus, manualClock(NOW), stopwatch);
    // Throwaway keys from one network: its burst of lookups, then refusals that ask the registry nothing.
    const outcomes = [];
    for (const id of ids)
      outcomes.push(
        await submitters.require(id, NET).then(
          () => 'in',
          (e: SwarmError) => e.codeName,
        ),
      );
    expect(outcomes.filter((o) => o === 'SWARM_PERMISSION_DENIED')).toHaveLength(LOOKUP_LIMITS.perNetwork.burst);
    expect(outcomes.filter((o) => o === 'SWARM_OVERLOADED')).toHaveLength(ids.length - LOOKUP_LIMITS.perNetwork.burst);
    expect(asked).toHaveLength(LOOKUP_LIMITS.perNetwork.burst);
    const refused = (await submitters.require(ALICE, NET).catch((e: unknown) => e)) as SwarmError;
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, retryAfterMs: expect.any(Number) });
    // Another network has its own allowance; one node retrying a miss, its own.
    await expect(submitters.require(ALICE, '198.51.100.0/24')).resolves.toBeUndefined();
    await expect(submitters.require(ALICE, NET)).resolves.toBeUndefined();
    const bob = 'b'.repeat(64);
    const misses = [];
    for (let i = 0; i < 6; i++)
      misses.push(
        await submitters.require(bob, `10.0.${i}.0/24`).then(
          () => 'in',
          (e: SwarmError) => e.codeName,
        ),
      );
    expect(misses).toEqual([...Array<string>(LOOKUP_LIMITS.perPeer.burst).fill('SWARM_PERMISSION_DENIED'), 'SWARM_OVERLOADED', 'SWARM_OVERLOADED', 'SWARM_OVERLOADED']);
    // A node found before is looked up again for free once its record is stale, its network's allowance spent or not.
    stopwatch.advance(SUBMITTER_RECORD_FRESH_MS);
    const strangers = ids.map((id) => id.replace(/^0/, 'c'));
    let spent = 0;
    for (const id of strangers)
      if (
        (await submitters.require(id, NET).then(
          () => 'in',
          (e: SwarmError) => e.codeName,
        )) === 'SWARM_OVERLOADED'
      )
        spent += 1;
    expect(spent).toBeGreaterThan(0);
    const before = asked.length;
    await expect(submitters.require(ALICE, NET)).resolves.toBeUndefined();
    expect(asked.length).toBe(before + 1);
    // Time refills them.
    stopwatch.advance(2_000);
    await expect(submitters.require(bob, '10.0.9.0/24')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED });
  });
});
