import { CreditBalance, ErrorCode, GatewayHealth, RouterHealth, RouterSubmit, SwarmErrorMessage, TaskFinished, TaskFinishedEvents } from '@swarm/contracts';
import { createLogger, silentLogger } from '@swarm/telemetry';
import { Writable } from 'node:stream';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect, createInbox, headers as natsHeaders } from 'nats';
import type { BusService } from './index';
import {
  ACK_HEADER,
  ACK_LIMIT_HEADER,
  ackDelayMs,
  AckTimeoutError,
  createBusClient,
  DEADLINE_HEADER,
  MAX_ACK_DELAY_MS,
  MAX_ERROR_MESSAGE_CHARS,
  MIN_ACK_LIMIT_TO_HOLD_MS,
  startBusService,
  SwarmError,
  SWARM_ERROR_HEADER,
  transportFailureOf,
} from './index';

describe('bus - request/reply over a real nats-server', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let svc: BusService;
  let release: () => void = () => undefined;
  let handled = 0;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    svc = await startBusService({ nc, log: silentLogger(), name: 'test-svc', version: '0.1.0', description: 'test', nodeId: 'n1' });
    svc.serve(
      CreditBalance,
      async (req) => {
        if (req.account === 'broke') throw new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT, 'no account broke');
        if (req.account === 'bug') throw new Error('secret internal detail');
        if (req.account === 'slow') await new Promise<void>((r) => (release = r));
        if (req.account.startsWith('count')) handled += 1;
        return { account: req.account, available: 42n, escrowed: 1n, spent: 0n, reserves: 0n, closed: false };
      },
      { maxRequestBytes: 64 },
    );
    svc.serveHealth(RouterHealth, () => ({ backend: 'x' }));
  });

  afterAll(async () => {
    await svc.stop(1000);
    await nc.drain();
    await server.stop();
  });

  it('does not run a request whose reply subject is not an inbox, nor one without a reply', async () => {
    // Answering would publish this service's reply onto a subject the requester picked.
    const spied: string[] = [];
    const spy = nc.subscribe('swarm.v1.credit.>', { callback: (_e, m) => spied.push(m.subject) });
    const before = handled;
    nc.publish(CreditBalance.subject, CreditBalance.request.encode({ account: 'count-1' }).finish(), { reply: 'swarm.v1.credit.settle' });
    nc.publish(CreditBalance.subject, CreditBalance.request.encode({ account: 'count-2' }).finish(), { reply: '_INBOXevil.x' });
    nc.publish(CreditBalance.subject, CreditBalance.request.encode({ account: 'count-3' }).finish());
    // An honest request after them is served, so the three were seen (and dropped) first.
    await expect(svc.client.request(CreditBalance, { account: 'count-4' })).resolves.toMatchObject({ available: 42n });
    expect(handled - before).toBe(1);
    expect(spied.filter((s) => s === 'swarm.v1.credit.settle')).toEqual([]);
    spy.unsubscribe();
  });

  it('tells of dropped requests at most once a second, with how many since: a flood does not fill the log', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    const loud = await startBusService({
      nc,
      log: createLogger({ service: 'loud-svc', destination: sink }),
      name: 'loud-svc',
      version: '0.1.0',
      description: 'test',
      nodeId: 'n1',
    });
    loud.serveHealth(GatewayHealth);
    try {
      for (let i = 0; i < 500; i += 1) nc.publish(GatewayHealth.subject, new Uint8Array(), { reply: `not.an.inbox.${i}` });
      // An honest request after them is served, so the 500 were seen (and dropped) first.
      await expect(loud.client.request(GatewayHealth, {})).resolves.toMatchObject({ status: 'ok' });
      const warnings = lines.filter((l) => l.includes('dropped requests whose reply subject is not an inbox'));
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThanOrEqual(2);
      expect(JSON.parse(warnings[0])).toMatchObject({ dropped: 1, reply: 'not.an.inbox.0' });
    } finally {
      await loud.stop(1_000);
    }
  });

  /** A service whose GatewayHealth acknowledges when asked, then answers once `work` has ended. */
  async function startAckedService(work: () => Promise<void>): Promise<BusService> {
    const acked = await startBusService({ nc, log: silentLogger(), name: 'acked-svc', version: '0.1.0', description: 'test', nodeId: 'n1' });
    acked.serve(
      GatewayHealth,
      async () => {
        await work();
        return { service: 'acked', nodeId: 'n1', version: '1', uptimeMs: 0n, status: 'ok', details: {} };
      },
      { ack: true },
    );
    return acked;
  }

  it('acknowledges on arrival when asked, so a requester learns a live replica took the request', async () => {
    let release!: () => void;
    const working = new Promise<void>((r) => (release = r));
    // The answer takes as long as the work; the acknowledgement does not wait for it.
    const acked = await startAckedService(() => working);
    try {
      const t0 = Date.now();
      const answer = acked.client.requestAcked(GatewayHealth, {}, { timeoutMs: 10_000, ackTimeoutMs: 300 });
      // Past the ack timeout with the work still going: the acknowledgement kept the request alive.
      await new Promise((r) => setTimeout(r, 500));
      release();
      await expect(answer).resolves.toMatchObject({ service: 'acked', status: 'ok' });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
      // A plain request (no ack asked) to the same endpoint gets the answer alone.
      await expect(acked.client.request(GatewayHealth, {})).resolves.toMatchObject({ service: 'acked' });
    } finally {
      await acked.stop(500);
    }
  });

  it('holds the acknowledgement back a little: an answer ready first goes alone; a slow one is acknowledged first', async () => {
    let waitMs = 0;
    const acked = await startAckedService(async () => {
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    });
    /** What reaches the requester's inbox for one request asking for an ack, with `limit` as its ack limit: 'ack' or 'answer', in order. */
    const repliesTo = async (limit: string | undefined): Promise<string[]> => {
      const inbox = createInbox();
      const seen: string[] = [];
      const sub = nc.subscribe(inbox, { callback: (_e, m) => seen.push(m.data.length === 0 && m.headers?.has(ACK_HEADER) ? 'ack' : 'answer') });
      const h = natsHeaders();
      h.set(ACK_HEADER, '1');
      if (limit !== undefined) h.set(ACK_LIMIT_HEADER, limit);
      nc.publish(GatewayHealth.subject, GatewayHealth.request.encode({}).finish(), { reply: inbox, headers: h });
      await waitFor(() => seen.includes('answer'), { what: 'the answer' });
      // Long enough for a held-back acknowledgement to have gone out, had it not been dropped.
      await new Promise((r) => setTimeout(r, 4 * MAX_ACK_DELAY_MS));
      sub.unsubscribe();
      return seen;
    };
    try {
      expect(ackDelayMs('2000')).toBe(MAX_ACK_DELAY_MS);
      expect(ackDelayMs(String(MIN_ACK_LIMIT_TO_HOLD_MS))).toBe(MIN_ACK_LIMIT_TO_HOLD_MS / 10);
      expect([undefined, String(MIN_ACK_LIMIT_TO_HOLD_MS - 1), '50', '', 'x', '-5', '1e9', '9999999999'].map(ackDelayMs)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      // A quick answer under a requester's 2 s ack limit: one message, no acknowledgement.
      expect(await repliesTo('2000')).toEqual(['answer']);
      // A requester that names no limit (an older one), or a small one: acknowledged at once, as before.
      expect(await repliesTo(undefined)).toEqual(['ack', 'answer']);
      expect(await repliesTo('100')).toEqual(['ack', 'answer']);
      // Work that outlasts the hold: acknowledged first, well within the requester's limit.
      waitMs = 3 * MAX_ACK_DELAY_MS;
      expect(await repliesTo('2000')).toEqual(['ack', 'answer']);
      // Through the client: both kinds of answer resolve the request.
      await expect(acked.client.requestAcked(GatewayHealth, {}, { timeoutMs: 5_000, ackTimeoutMs: 2_000 })).resolves.toMatchObject({ service: 'acked' });
      waitMs = 0;
      await expect(acked.client.requestAcked(GatewayHealth, {}, { timeoutMs: 5_000, ackTimeoutMs: 2_000 })).resolves.toMatchObject({ service: 'acked' });
    } finally {
      await acked.stop(500);
    }
  });

  it('sends no held-back acknowledgement once the service has stopped', async () => {
    let release!: () => void;
    const working = new Promise<void>((r) => (release = r));
    const acked = await startAckedService(() => working);
    const inbox = createInbox();
    const seen: string[] = [];
    const sub = nc.subscribe(inbox, { callback: (_e, m) => seen.push(m.data.length === 0 ? 'ack' : 'answer') });
    try {
      const h = natsHeaders();
      h.set(ACK_HEADER, '1');
      h.set(ACK_LIMIT_HEADER, '2000');
      nc.publish(GatewayHealth.subject, GatewayHealth.request.encode({}).finish(), { reply: inbox, headers: h });
      await nc.flush();
      // Stopped while the ack is held (100 ms) and the work goes on: nothing more leaves for it.
      await new Promise((r) => setTimeout(r, 20));
      await acked.stop(0);
      await new Promise((r) => setTimeout(r, 3 * MAX_ACK_DELAY_MS));
      expect(seen).toEqual([]);
    } finally {
      release();
      sub.unsubscribe();
    }
  });

  it('gives up on an unacknowledged request after the ack timeout, not the request timeout', async () => {
    // A stuck replica: it holds the subscription and never answers or acknowledges.
    const stuck = nc.subscribe('swarm.v1.router.submit', { callback: () => undefined });
    try {
      const t0 = Date.now();
      const err = await svc.client
        .requestAcked(
          RouterSubmit,
          { skill: 'x', inputs: [], budget: 1n, timeoutMs: 0, account: '', taskId: '', idempotencyKey: '', redundancy: 0, shards: 0 },
          { timeoutMs: 20_000, ackTimeoutMs: 300 },
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AckTimeoutError);
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true });
      expect(transportFailureOf(err)).toBe('ack-timeout');
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      stuck.unsubscribe();
    }
  });

  it('returns the typed response', async () => {
    await expect(svc.client.request(CreditBalance, { account: 'a' })).resolves.toEqual({ account: 'a', available: 42n, escrowed: 1n, spent: 0n, reserves: 0n, closed: false });
  });

  it('turns a thrown SwarmError into the same typed error on the caller', async () => {
    await expect(svc.client.request(CreditBalance, { account: 'broke' })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT,
      message: 'no account broke',
    });
  });

  it('hides internal errors behind INTERNAL and keeps serving', async () => {
    const err = await svc.client.request(CreditBalance, { account: 'bug' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwarmError);
    expect((err as SwarmError).code).toBe(ErrorCode.ERROR_CODE_INTERNAL);
    expect((err as SwarmError).message).not.toMatch(/secret/);
    await expect(svc.client.request(CreditBalance, { account: 'a' })).resolves.toMatchObject({ available: 42n });
  });

  it('answers malformed protobuf with MALFORMED_MESSAGE and the service-framework headers', async () => {
    const reply = await nc.request(CreditBalance.subject, new Uint8Array([0xff, 0xff, 0xff, 0xff]), { timeout: 2000 });
    expect(reply.headers?.get(SWARM_ERROR_HEADER)).toBe(String(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE));
    expect(reply.headers?.get('Nats-Service-Error-Code')).toBe('400');
    expect(SwarmErrorMessage.decode(reply.data).code).toBe(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
  });

  it('refuses oversized requests before decoding them', async () => {
    await expect(svc.client.request(CreditBalance, { account: 'x'.repeat(100) })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
    });
  });

  it('reports no responders as UNAVAILABLE and silence as DEADLINE_EXCEEDED, each marked as the bus failure it is', async () => {
    const nobody = await svc.client.request({ ...CreditBalance, subject: 'swarm.v1.credit.nobody' }, { account: 'a' }).catch((e: unknown) => e);
    expect(nobody).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true });
    expect(transportFailureOf(nobody)).toBe('no-responders');
    const pending = svc.client.request(CreditBalance, { account: 'slow' }, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(await pending).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED });
    expect(transportFailureOf(await pending)).toBe('timeout');
    release();
    // A responder's own error, however it reads, was no failure of the bus.
    const answered = await svc.client.request(CreditBalance, { account: 'broke' }).catch((e: unknown) => e);
    expect(answered).toMatchObject({ code: ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT });
    expect(transportFailureOf(answered)).toBeUndefined();
    const lookalike = new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no credit-svc is serving swarm.v1.credit.nobody', true, { cause: (nobody as SwarmError).cause });
    expect(transportFailureOf(lookalike)).toBeUndefined();
  });

  it('refuses a request its precheck refuses, before decoding it and without running the handler', async () => {
    const checked: number[] = [];
    let ran = 0;
    svc.serve(
      { ...CreditBalance, subject: 'swarm.v1.credit.prechecked' },
      () => ((ran += 1), { account: 'a', available: 1n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false }),
      {
        precheck: (data) => {
          checked.push(data.byteLength);
          if (data.byteLength > 10) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'too many entries');
        },
      },
    );
    const rpc = { ...CreditBalance, subject: 'swarm.v1.credit.prechecked' };
    await expect(svc.client.request(rpc, { account: 'x'.repeat(20) })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: 'too many entries' });
    await expect(svc.client.request(rpc, { account: 'ok' })).resolves.toMatchObject({ available: 1n });
    expect({ checked, ran }).toEqual({ checked: [22, 4], ran: 1 });
  });

  it('answers health and the standard $SRV.PING, and refuses a health request of more than a few KiB undecoded', async () => {
    const health = await svc.client.request(RouterHealth, {});
    expect(health).toMatchObject({ service: 'test-svc', nodeId: 'n1', status: 'ok', details: { backend: 'x' } });
    // An empty message padded with an unknown field of 1 MiB (field 15, bytes).
    const padded = Buffer.concat([Buffer.from([0x7a, 0x80, 0x80, 0x40]), Buffer.alloc(1024 * 1024)]);
    const big = await nc.request(RouterHealth.subject, padded, { timeout: 2000 });
    expect(big.headers?.get(SWARM_ERROR_HEADER)).toBe(String(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE));
    const ping = await nc.request('$SRV.PING.test-svc', new Uint8Array(), { timeout: 2000 });
    expect(JSON.parse(new TextDecoder().decode(ping.data))).toMatchObject({ name: 'test-svc', metadata: { nodeId: 'n1' } });
  });
});

describe('bus - limits of the NATS server', () => {
  it('reports a request over the server max payload as PAYLOAD_TOO_LARGE', async () => {
    const server = await startNatsServer({ maxPayloadBytes: 1024 });
    const nc = await connect({ servers: server.url });
    try {
      const client = createBusClient(nc, silentLogger());
      await expect(client.request(CreditBalance, { account: 'x'.repeat(2000) })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
      });
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});

describe('bus - error replies quoting peer input', () => {
  it('caps the message so a multi-megabyte peer string cannot break the reply or the service', async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const svc = await startBusService({ nc, log: silentLogger(), name: 'echo-svc', version: '0.1.0', description: 'test', nodeId: 'n1' });
    svc.serve(
      CreditBalance,
      (req) => {
        throw new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT, `no account '${req.account}'\nsecond line`);
      },
      { maxRequestBytes: 8 * 1024 * 1024 },
    );
    try {
      const err = await svc.client.request(CreditBalance, { account: 'y'.repeat(4_000_000) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT });
      expect((err as Error).message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
      await expect(svc.client.request(CreditBalance, { account: 'z' })).rejects.toThrow("no account 'z'\nsecond line");
    } finally {
      await svc.stop(1000);
      await nc.close();
      await server.stop();
    }
  });
});

describe('bus - untraced process', () => {
  it('sends events without headers and requests without trace context when no telemetry runs', async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const svc = await startBusService({ nc, log: silentLogger(), name: 'plain-svc', version: '0.1.0', description: 'test', nodeId: 'n1' });
    const seen: Array<string[] | undefined> = [];
    svc.serve(CreditBalance, (req, ctx) => {
      seen.push(ctx.headers?.keys());
      svc.client.publish(TaskFinishedEvents, TaskFinished.fromPartial({ taskId: 't-1' }));
      return { account: req.account, available: 0n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false };
    });
    const events: Array<{ headers: boolean; payload: number }> = [];
    const sub = nc.subscribe(TaskFinishedEvents.subject, { callback: (_e, m) => events.push({ headers: m.headers !== undefined, payload: m.data.length }) });
    try {
      await nc.flush();
      await svc.client.request(CreditBalance, { account: 'a' });
      await waitFor(() => events.length === 1, { timeoutMs: 2000 });
      expect(seen).toEqual([[DEADLINE_HEADER]]);
      expect(events).toEqual([{ headers: false, payload: expect.any(Number) as number }]);
    } finally {
      sub.unsubscribe();
      await svc.stop(1000);
      await nc.close();
      await server.stop();
    }
  });
});

describe('bus - events on the reply connection', () => {
  it('publishes a handler event through the connection its replies leave by, not the one of its own requests', async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const requests = await connect({ servers: server.url });
    const asker = await connect({ servers: server.url });
    const svc = await startBusService({ nc, clientNc: requests, log: silentLogger(), name: 'events-svc', version: '0.1.0', description: 'test', nodeId: 'n1' });
    svc.serve(CreditBalance, (req) => {
      svc.publish(TaskFinishedEvents, TaskFinished.fromPartial({ taskId: req.account }));
      return { account: req.account, available: 0n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false };
    });
    const events: string[] = [];
    const sub = asker.subscribe(TaskFinishedEvents.subject, { callback: (_e, m) => events.push(TaskFinished.decode(m.data).taskId) });
    try {
      // The endpoint's subscription reaches the server before the request does (else: no responders).
      await Promise.all([asker.flush(), nc.flush()]);
      // With the requests' connection gone, an event on it would be lost.
      await requests.close();
      await expect(createBusClient(asker, silentLogger()).request(CreditBalance, { account: 't-1' })).resolves.toMatchObject({ account: 't-1' });
      await waitFor(() => events.length === 1, { timeoutMs: 2000 });
      expect(events).toEqual(['t-1']);
    } finally {
      sub.unsubscribe();
      await svc.stop(1000);
      await Promise.all([nc.close(), asker.close()]);
      await server.stop();
    }
  });
});
