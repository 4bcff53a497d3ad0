import { createBusClient } from '@swarm/bus';
import { loadServiceConfig } from '@swarm/config';
import { ApiAddAgent } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, tempDir } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { INNER_CALL_HEADER } from './http-server';
import type { ApiService } from './service';
import { startApiService } from './service';
import type { FakeBackends } from './test-fixtures/fake-backends';
import { startFakeBackends } from './test-fixtures/fake-backends';

jest.setTimeout(20_000);

// A rate so slow that nothing refills while a test runs: only the burst counts.
const RATE = { ratePerSecond: 0.01, burst: 6 };

describe('api-svc - the rate limit counts an MCP tool call over HTTP once', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let fake: FakeBackends;
  let api: ApiService;
  let base: string;

  beforeAll(async () => {
    [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-api-rate-')]);
    nc = await connect({ servers: server.url });
    fake = await startFakeBackends(nc, 1_000n);
    api = await startApiService({
      config: {
        ...loadServiceConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_GRACE_MS: '2000' }),
        http: { listen: { host: '127.0.0.1', port: 0 }, jsonBodyBytes: 64 * 1024, protobufBodyBytes: 1024 * 1024, ...RATE },
      },
      log: silentLogger(),
      nc,
      nodeId: 'node-test',
    });
    base = `http://${api.httpAddress}`;
  });
  afterAll(async () => {
    await api?.stop();
    await fake?.stop();
    await nc?.drain();
    await Promise.all([server?.stop(), dir?.remove()]);
  });

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
