/**
 * Attacks on /mcp by an agent holding one valid token, on a real api-svc and bus (fake backends):
 * - a tools/call submit_task whose `_meta.progressToken` is megabytes long: the token is copied into
 *   every progress notification (accepted, running, then a heartbeat each second while the task
 *   runs), so one request of N bytes makes the node write N bytes a second for the task's life
 *   (and buffer them when the client does not read: stalled-answers.ts cuts it only after ~30 s);
 * - a request whose Mcp-Protocol-Version header is kilobytes long: the answer quotes it whole.
 * The JSON-RPC id is capped at 256 characters for exactly this reason (mcp-request-checks.ts).
 */
import { createBusClient } from '@swarm/bus';
import { ApiAddAgent } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import type { ApiHarness } from './test-fixtures/api-harness';
import { startApiHarness } from './test-fixtures/api-harness';
import { DEFAULT_BURST, DEFAULT_JSON_BODY_BYTES, DEFAULT_RATE_PER_SECOND, PROTOBUF_BODY_BYTES } from './config';

jest.setTimeout(30_000);

describe('api-svc /mcp - what one request may make the node echo (helper-178)', () => {
  let h: ApiHarness;
  let token: string;

  beforeAll(async () => {
    h = await startApiHarness({
      dirPrefix: 'swarm-api-mcp-atk-',
      nodeCredit: 1_000_000n,
      http: { jsonBodyBytes: DEFAULT_JSON_BODY_BYTES, protobufBodyBytes: PROTOBUF_BODY_BYTES, ratePerSecond: DEFAULT_RATE_PER_SECOND, burst: DEFAULT_BURST },
    });
    token = (await createBusClient(h.nc, silentLogger()).request(ApiAddAgent, { name: 'echoer', budget: 100_000n, ttlMs: 0n })).token;
  });
  afterAll(() => h?.stop());

  const post = (body: string, extra: Record<string, string> = {}) =>
    fetch(`${h.base}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...extra },
      body,
    });

  it('does not copy a megabyte progressToken into every progress notification', async () => {
    h.fake.holdTasks = true;
    try {
      const progressToken = 'p'.repeat(1024 * 1024);
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'submit_task', arguments: { skill: 'vecadd', inputs: { a: { shape: [1], data: [1] }, b: { shape: [1], data: [2] } } }, _meta: { progressToken } },
      });
      const res = await post(body);
      let received = 0;
      let text = '';
      if (res.body) {
        const reader = res.body.getReader();
        const until = Date.now() + 3_500;
        const cancel = setTimeout(() => void reader.cancel().catch(() => undefined), 3_500);
        try {
          while (Date.now() < until) {
            const { value, done } = (await reader.read()) as { value?: Uint8Array; done: boolean };
            if (done || value === undefined) break;
            received += value.byteLength;
            text += new TextDecoder().decode(value);
          }
        } catch {
          // cancelled at the end of the window
        } finally {
          clearTimeout(cancel);
        }
        await reader.cancel().catch(() => undefined);
      }
      // Refused at once (Invalid params), not answered with the token again every second.
      expect(received).toBeLessThan(1_024);
      expect(JSON.parse(text)).toMatchObject({
        id: 1,
        error: { code: -32602, message: expect.stringContaining('a progressToken is a safe integer or a string of at most 256 characters') },
      });
    } finally {
      h.fake.holdTasks = false;
      h.fake.release();
    }
  });

  it('does not quote a long Mcp-Protocol-Version header back whole', async () => {
    const version = 'v'.repeat(12_000);
    const res = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), { 'mcp-protocol-version': version });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'SWARM_INVALID_ARGUMENT', message: expect.stringContaining('this one has 12000') } });
    // Every other refusal of this API is capped (MAX_ERROR_MESSAGE_CHARS, MAX_JSONRPC_ID_CHARS).
    expect(text.length).toBeLessThan(1_024);
  });
});
