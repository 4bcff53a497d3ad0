/**
 * `redundancy` through the agents' HTTP API (fake backends, a real bus and server): the JSON and
 * protobuf bodies pass it to the router, the default budget covers K runs, a redundant task's
 * result lists its contributions, and a value outside 1..5 is refused before the router is asked.
 */
import { ApiAddAgent, fromTensor, SubmitTaskRequest, toTensor } from '@swarm/contracts';
import { createBusClient } from '@swarm/bus';
import { priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import type { ApiHarness } from './test-fixtures/api-harness';
import { startApiHarness } from './test-fixtures/api-harness';
import type { FakeBackends } from './test-fixtures/fake-backends';

jest.setTimeout(20_000);

describe('api-svc - redundant tasks over HTTP', () => {
  let h: ApiHarness;
  let nc: NatsConnection;
  let fake: FakeBackends;
  let base: string;
  let token: string;

  beforeAll(async () => {
    h = await startApiHarness({
      dirPrefix: 'swarm-api-redundancy-',
      nodeCredit: 1_000n,
      http: { jsonBodyBytes: 64 * 1024, protobufBodyBytes: 1024 * 1024, ratePerSecond: 20, burst: 40 },
    });
    ({ nc, fake, base } = h);
    token = (await createBusClient(nc, silentLogger()).request(ApiAddAgent, { name: 'replicas', budget: 100n, ttlMs: 0n })).token;
  });
  afterAll(() => h?.stop());

  const a = toTensor('a', [3], new Float32Array([1, 2, 3]));
  const b = toTensor('b', [3], new Float32Array([10, 20, 30]));
  const price = priceOf('vecadd', [a, b].map(fromTensor));
  const submit = (body: unknown) =>
    fetch(`${base}/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const vecadd = {
    skill: 'vecadd',
    inputs: [
      { name: 'a', shape: [3], data: [1, 2, 3] },
      { name: 'b', shape: [3], data: [10, 20, 30] },
    ],
  };

  it('sends redundancy with a default budget of K × the price, and answers the contributions', async () => {
    const res = await submit({ ...vecadd, redundancy: 3 });
    expect(res.status).toBe(200);
    expect(fake.submits.at(-1)).toMatchObject({ account: 'agent/replicas', redundancy: 3, budget: 3n * price });
    const body = (await res.json()) as { contributions?: unknown[] };
    expect(body.contributions).toHaveLength(3);
    expect(body.contributions?.[0]).toEqual({
      providerId: 'node-1',
      executorId: 'exec-1',
      counted: true,
      paid: expect.stringMatching(/^\d+$/) as string,
      share: 1 / 3,
      note: '',
      executeMs: 1,
    });
  });

  it('leaves a one-provider task as it was: budget the price, no contributions', async () => {
    const res = await submit(vecadd);
    expect(fake.submits.at(-1)).toMatchObject({ redundancy: 1, budget: price });
    expect(await res.json()).not.toHaveProperty('contributions');
  });

  it('takes redundancy in a protobuf body', async () => {
    const body = SubmitTaskRequest.encode(SubmitTaskRequest.fromPartial({ skill: 'vecadd', inputs: [a, b], redundancy: 2 })).finish();
    const res = await fetch(`${base}/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' }, body });
    expect(res.status).toBe(200);
    expect(fake.submits.at(-1)).toMatchObject({ redundancy: 2, budget: 2n * price });
  });

  it.each([0, 6, 2.5, '3'])('refuses redundancy %p before the router is asked', async (redundancy) => {
    const before = fake.submits.length;
    const res = await submit({ ...vecadd, redundancy });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SWARM_INVALID_ARGUMENT');
    expect(fake.submits.length).toBe(before);
  });
});
