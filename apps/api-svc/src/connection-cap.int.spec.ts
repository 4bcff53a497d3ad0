/**
 * api-svc's connections from every local process together (http-server.ts, @swarm/connection-cap):
 * a process with no token opened connections that sent nothing, each held 30 s, up to the process's
 * file descriptors (helper-178). With the cap, a new connection takes the place of the one that
 * proved nothing longest (no agent's request passed the token check on it), then of an agent's idle
 * longest; one is refused only when every held connection is an agent's with a request in flight or
 * one within the last second. Real api-svc on loopback, fake backends on a real bus.
 */
import type { Socket } from 'node:net';
import { connect as connectTcp } from 'node:net';
import { createBusClient } from '@swarm/bus';
import { ApiAddAgent, ApiHealth } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import { MIN_IDLE_MS } from '@swarm/connection-cap';
import { waitFor } from '@swarm/testing';
import { DEFAULT_BURST, DEFAULT_JSON_BODY_BYTES, DEFAULT_RATE_PER_SECOND, PROTOBUF_BODY_BYTES } from './config';
import type { ApiHarness } from './test-fixtures/api-harness';
import { startApiHarness } from './test-fixtures/api-harness';

const CAP = 8;

describe('api-svc - connections from all clients together (helper-178)', () => {
  let h: ApiHarness;
  let token: string;
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    h = await startApiHarness({
      dirPrefix: 'swarm-api-cap-',
      nodeCredit: 1_000_000n,
      http: { jsonBodyBytes: DEFAULT_JSON_BODY_BYTES, protobufBodyBytes: PROTOBUF_BODY_BYTES, ratePerSecond: DEFAULT_RATE_PER_SECOND, burst: DEFAULT_BURST, maxConnections: CAP },
    });
    token = (await createBusClient(h.nc, silentLogger()).request(ApiAddAgent, { name: 'capped', budget: 100_000n, ttlMs: 0n })).token;
  });
  afterEach(async () => {
    for (const t of timers.splice(0)) clearInterval(t);
    for (const s of sockets.splice(0)) s.destroy();
    await idleLongEnough();
  });
  afterAll(() => h?.stop());

  /** A TCP connection to the API that sends nothing; `closed` tells when the server closed it. */
  const silent = async (): Promise<{ socket: Socket; closed: () => boolean }> => {
    const { hostname, port } = new URL(h.base);
    const socket = connectTcp(Number(port), hostname);
    sockets.push(socket);
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, closed: () => closed };
  };
  const idleLongEnough = () => new Promise((resolve) => setTimeout(resolve, MIN_IDLE_MS + 100));
  /** A fresh connection (no keep-alive pool) asking the balance with the agent's token: its status line. */
  const agentCall = async (): Promise<string> => {
    const { socket } = await silent();
    socket.write(`GET /v1/balance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    await new Promise<void>((r) => socket.once('close', () => r()));
    return text.split('\r\n')[0] || 'closed with no answer';
  };
  const balance = () => fetch(`${h.base}/v1/balance`, { headers: { authorization: `Bearer ${token}` } });

  it('holds no more connections than its cap, and answers an agent past silent ones filling it', async () => {
    const held: Array<{ socket: Socket; closed: () => boolean }> = [];
    for (let i = 0; i < 5 * CAP; i++) held.push(await silent());
    await waitFor(() => held.filter((c) => !c.closed()).length <= CAP, { timeoutMs: 5_000 });
    // The newest stay: each new one took the place of the one silent longest.
    expect(held.slice(-CAP).every((c) => !c.closed())).toBe(true);
    const res = await balance();
    expect(res.status).toBe(200);
    expect(held.filter((c) => !c.closed()).length).toBeLessThan(CAP);
  });

  it("refuses a new connection only when every one it holds has an agent's request in flight, and takes it again once one ends", async () => {
    h.fake.holdTasks = true;
    const streams: Array<Promise<string>> = [];
    try {
      const accepted = await fetch(`${h.base}/v1/tasks?async=true`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          skill: 'vecadd',
          inputs: [
            { name: 'a', shape: [1], data: [1] },
            { name: 'b', shape: [1], data: [2] },
          ],
          budget: '10',
        }),
      });
      const { taskId } = (await accepted.json()) as { taskId: string };
      // Earlier connections idle long enough to make room for the streams.
      await idleLongEnough();
      // Every held connection an event stream of the running task: a request in flight on each.
      for (let i = 0; i < CAP; i++) streams.push(fetch(`${h.base}/v1/tasks/${taskId}/events`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text()));
      const bus = createBusClient(h.nc, silentLogger());
      await waitFor(async () => (await bus.request(ApiHealth, {})).details['eventStreams'] === String(CAP), { timeoutMs: 5_000 });
      const refused = await silent();
      await waitFor(() => refused.closed(), { timeoutMs: 5_000 });
      h.fake.holdTasks = false;
      h.fake.release();
      expect((await Promise.all(streams)).every((text) => text.includes('event: done'))).toBe(true);
      await idleLongEnough();
      expect((await balance()).status).toBe(200);
    } finally {
      h.fake.holdTasks = false;
      h.fake.release();
    }
  });

  // A client with no token (helper-179): 401s on every connection more often than once a second kept
  // each one active, and pipelined public requests never read kept each one in flight, so none could
  // be let go for an agent's. Only an agent's request that passed the token check proves a connection.
  it('answers agents while a client with no token sends a 401 request every 300 ms on every connection it holds', async () => {
    for (let i = 0; i < CAP; i++) {
      const c = await silent();
      c.socket.on('data', () => undefined); // reads its 401s
      const send = () => c.socket.write('GET /v1/balance HTTP/1.1\r\nHost: x\r\n\r\n');
      send();
      timers.push(setInterval(send, 300));
    }
    await idleLongEnough();
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push(await agentCall());
    expect(answers).toEqual(Array(5).fill('HTTP/1.1 200 OK'));
  });

  it('answers agents while a client with no token pipelines public requests on every connection and reads none of the answers', async () => {
    const many = 'GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(1_000);
    for (let i = 0; i < CAP; i++) {
      const c = await silent();
      c.socket.pause(); // never reads
      c.socket.write(many);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Their answers unread, no timeout lets them go (the receive timeouts are for requests, the stalled-answer watch for large answers).
    await idleLongEnough();
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) answers.push(await agentCall());
    expect(answers).toEqual(Array(3).fill('HTTP/1.1 200 OK'));
  });
});
