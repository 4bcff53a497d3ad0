/**
 * A client with no token against api-svc's connection cap (helper-179): 401s sent on every
 * connection more often than once a second kept each one "active", and pipelined public-route
 * requests whose answers it never read kept each one "in flight", so no connection could be let go
 * for an agent's. Only an agent's request that passed the token check proves a connection now.
 */
import type { Socket } from 'node:net';
import { connect as connectTcp } from 'node:net';
import { createBusClient } from '@swarm/bus';
import { ApiAddAgent } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import { MIN_IDLE_MS } from '@swarm/connection-cap';
import { DEFAULT_BURST, DEFAULT_JSON_BODY_BYTES, DEFAULT_RATE_PER_SECOND, PROTOBUF_BODY_BYTES } from './config';
import type { ApiHarness } from './test-fixtures/api-harness';
import { startApiHarness } from './test-fixtures/api-harness';

const CAP = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('api-svc connection cap - a client with no token cannot keep agents out (helper-179)', () => {
  let h: ApiHarness;
  let token: string;
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    h = await startApiHarness({
      dirPrefix: 'swarm-api-capr-',
      nodeCredit: 1_000_000n,
      http: { jsonBodyBytes: DEFAULT_JSON_BODY_BYTES, protobufBodyBytes: PROTOBUF_BODY_BYTES, ratePerSecond: DEFAULT_RATE_PER_SECOND, burst: DEFAULT_BURST, maxConnections: CAP },
    });
    token = (await createBusClient(h.nc, silentLogger()).request(ApiAddAgent, { name: 'victim', budget: 100_000n, ttlMs: 0n })).token;
  });
  afterEach(async () => {
    for (const t of timers.splice(0)) clearInterval(t);
    for (const s of sockets.splice(0)) s.destroy();
    await sleep(MIN_IDLE_MS + 200);
  });
  afterAll(() => h?.stop());

  const open = async (): Promise<{ socket: Socket; closed: () => boolean }> => {
    const { hostname, port } = new URL(h.base);
    const socket = connectTcp(Number(port), hostname);
    sockets.push(socket);
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, closed: () => closed };
  };
  /** A fresh connection (no keep-alive pool) asking the balance with the agent's token. */
  const agentCall = async (): Promise<string> => {
    const c = await open();
    c.socket.write(`GET /v1/balance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
    let text = '';
    c.socket.on('data', (d) => (text += d.toString()));
    await new Promise<void>((r) => c.socket.once('close', () => r()));
    return text.split('\r\n')[0] || 'closed with no answer';
  };

  it('answers agents while a client with no token sends a 401 request every 300 ms on every connection it holds', async () => {
    for (let i = 0; i < CAP; i++) {
      const c = await open();
      c.socket.on('data', () => undefined); // reads its 401s
      const send = () => c.socket.write('GET /v1/balance HTTP/1.1\r\nHost: x\r\n\r\n');
      send();
      timers.push(setInterval(send, 300));
    }
    await sleep(MIN_IDLE_MS + 200);
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push(await agentCall());
    expect(answers).toEqual(Array(5).fill('HTTP/1.1 200 OK'));
  });

  it('answers agents while a client with no token pipelines public requests on every connection and reads none of the answers', async () => {
    const many = 'GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(1_000);
    for (let i = 0; i < CAP; i++) {
      const c = await open();
      c.socket.pause(); // never reads
      c.socket.write(many);
      await sleep(50);
    }
    // Their answers unread, no timeout lets them go (the receive timeouts are for requests, the stalled-answer watch for large answers).
    await sleep(MIN_IDLE_MS + 200);
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) answers.push(await agentCall());
    expect(answers).toEqual(Array(3).fill('HTTP/1.1 200 OK'));
  });
});
