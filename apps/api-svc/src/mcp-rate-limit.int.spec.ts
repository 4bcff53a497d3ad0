import { createBusClient } from '@swarm/bus';
import { ApiAddAgent } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { INNER_CALL_HEADER } from './http-server';
import type { ApiHarness } from './test-fixtures/api-harness';
import { startApiHarness } from './test-fixtures/api-harness';

jest.setTimeout(20_000);

// A rate so slow that nothing refills while a test runs: only the burst counts.
const RATE = { ratePerSecond: 0.01, burst: 6 };

describe('api-svc - the rate limit counts an MCP tool call over HTTP once', () => {
  let h: ApiHarness;
  let nc: NatsConnection;
  let base: string;

  beforeAll(async () => {
    h = await startApiHarness({ dirPrefix: 'swarm-api-rate-', nodeCredit: 1_000n, http: { jsonBodyBytes: 64 * 1024, protobufBodyBytes: 1024 * 1024, ...RATE } });
    ({ nc, base } = h);
  });
  afterAll(() => h?.stop());

  const tokenFor = async (name: string) => (await createBusClient(nc, silentLogger()).request(ApiAddAgent, { name, budget: 10n, ttlMs: 0n })).token;

  /** One stateless MCP request calling get_balance, which makes one API call inside. */
  const balanceOverMcp = async (token: string, id: number) => {
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_balance', arguments: {} } }),
    });
    return { status: res.status, text: await res.text() };
  };

  it('serves as many tool calls as the burst allows, not half as many', async () => {
    const token = await tokenFor('mcp-caller');
    const answers = [];
    for (let i = 1; i <= RATE.burst + 1; i++) answers.push(await balanceOverMcp(token, i));
    const served = answers.slice(0, RATE.burst);
    for (const a of served) {
      expect(a.status).toBe(200);
      expect(a.text).toContain('agent/mcp-caller');
      expect(a.text).not.toContain('"isError":true');
    }
    // The burst is spent: the next MCP request is refused at the door.
    expect(answers[RATE.burst]).toMatchObject({ status: 429 });
    expect(answers[RATE.burst]?.text).toContain('SWARM_RATE_LIMITED');
  });

  it('counts each message of a JSON-RPC batch, and refuses a batch larger than the burst', async () => {
    const token = await tokenFor('batcher');
    const batch = (n: number) =>
      fetch(`${base}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'get_balance', arguments: {} } }))),
      });
    const tooBig = await batch(RATE.burst + 1);
    expect([tooBig.status, await tooBig.text()]).toEqual([400, expect.stringMatching(/SWARM_INVALID_ARGUMENT.*at most 6 at once/)]);
    // The refused batch took the one token its POST costs: 5 left, so a batch of 5 passes and then nothing does.
    const five = await batch(RATE.burst - 1);
    expect(five.status).toBe(200);
    expect((await five.text()).match(/agent\/batcher/g)?.length).toBeGreaterThanOrEqual(RATE.burst - 1);
    const more = await batch(2);
    expect([more.status, await more.text()]).toEqual([429, expect.stringContaining('SWARM_RATE_LIMITED')]);
  });

  it('counts a direct API call that claims to be an inner call with a wrong secret', async () => {
    const token = await tokenFor('forger');
    const statuses = [];
    for (let i = 0; i < RATE.burst + 1; i++) {
      const res = await fetch(`${base}/v1/balance`, { headers: { authorization: `Bearer ${token}`, [INNER_CALL_HEADER]: 'f'.repeat(64) } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, RATE.burst)).toEqual(Array(RATE.burst).fill(200));
    expect(statuses[RATE.burst]).toBe(429);
  });
});
