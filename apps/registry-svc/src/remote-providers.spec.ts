import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { RemoteProviders } from './remote-providers';
import { createRemoteProviders, LOOKUP_BUDGET_MS, PROVIDERS_FRESH_MS } from './remote-providers';
import { createRttProbe, RTT_PROBE_TIMEOUT_MS } from './rtt-probe';
import type { TestSigner } from './test-fixtures/test-signer';
import { createTestSigner, signTestRecord, TEST_POW_DIFFICULTY } from './test-fixtures/test-signer';

const NOW = 1_800_000_000_000;
const [self, near, far, dead] = [0, 1, 2, 3].map(() => createTestSigner());
const endpointOf = (s: TestSigner) => `${s.nodeId}@127.0.0.1:7400`;

describe('remote providers - from DHT records to reachable providers', () => {
  let vt: VirtualTime;
  let providers: RemoteProviders;
  /** What the DHT answers, and after how long. */
  let records: Uint8Array[];
  let lookupMs: number;
  let lookups: number;
  /** Ping round trip per node id; absent: no answer. */
  let pingMs: Map<string, number>;
  let pings: number;

  beforeEach(() => {
    vt = virtualTime(NOW);
    const record = (s: TestSigner, ttlMs = 60_000) => signTestRecord(s, vt.clock, { ttlMs }).bytes;
    records = [record(self), record(far), record(near), record(dead)];
    lookupMs = 10;
    lookups = 0;
    pingMs = new Map([
      [near.nodeId, 5],
      [far.nodeId, 40],
    ]);
    pings = 0;
    const rtt = createRttProbe({
      stopwatch: vt.stopwatch,
      ping: (endpoint, timeoutMs) => {
        pings++;
        // Probed at its DHT endpoint, `<node id>:<nonce>@host:port`.
        const ms = pingMs.get(endpoint.split(':')[0]);
        return new Promise((resolve, reject) => {
          if (ms === undefined || ms > timeoutMs) vt.scheduler.setTimer(timeoutMs, () => reject(new Error('no answer')));
          else vt.scheduler.setTimer(ms, () => resolve(undefined));
        });
      },
    });
    providers = createRemoteProviders({
      findProviders: async () => {
        lookups++;
        const answer = records;
        await vt.scheduler.sleep(lookupMs);
        return answer;
      },
      rtt,
      selfNodeId: self.nodeId,
      powDifficulty: TEST_POW_DIFFICULTY,
      ...vt,
      log: silentLogger(),
    });
  });

  async function find(skill = 'matmul', advanceMs = LOOKUP_BUDGET_MS) {
    const p = providers.find(skill);
    await vt.advance(advanceMs);
    return p;
  }

  it('leaves out its own record and those that do not answer a ping, nearest first, with the round trip', async () => {
    const found = await find();
    expect(found.map((p) => [p.nodeId, p.rttMs, p.endpoint])).toEqual([
      [near.nodeId, 5, endpointOf(near)],
      [far.nodeId, 40, endpointOf(far)],
    ]);
    expect(found.every((p) => !p.local && p.pricePerMwork === 3n)).toBe(true);
  });

  it('reuses an answer for a second, and round trips for longer', async () => {
    await find();
    expect([lookups, pings]).toEqual([1, 3]);
    await find('matmul', PROVIDERS_FRESH_MS / 2);
    expect(lookups).toBe(1);
    await vt.advance(PROVIDERS_FRESH_MS);
    await find();
    // A new lookup, but no new ping: the round trips are fresh, and so is the dead node's failure.
    expect([lookups, pings]).toEqual([2, 3]);
  });

  it('answers the last answer when a lookup outruns its budget, and the new one once it is in', async () => {
    const first = await find();
    await vt.advance(PROVIDERS_FRESH_MS);
    lookupMs = LOOKUP_BUDGET_MS * 2;
    records = [signTestRecord(near, vt.clock).bytes];
    const slow = await find();
    expect(slow.map((p) => p.nodeId)).toEqual(first.map((p) => p.nodeId));
    await vt.advance(LOOKUP_BUDGET_MS);
    expect((await find('matmul', 0)).map((p) => p.nodeId)).toEqual([near.nodeId]);
  });

  it('drops providers whose record has expired from a reused answer', async () => {
    records = [signTestRecord(near, vt.clock, { ttlMs: 1_000 + RTT_PROBE_TIMEOUT_MS }).bytes];
    expect(await find('matmul', 100)).toHaveLength(1);
    await vt.advance(1_000 + RTT_PROBE_TIMEOUT_MS);
    lookupMs = LOOKUP_BUDGET_MS * 2;
    expect(await find()).toEqual([]);
  });
});
