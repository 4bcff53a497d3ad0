import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect, headers } from 'nats';
import { MuxError, replyMuxOf, STALLED_TIMER_MS } from './reply-mux';

const enc = new TextEncoder();
const dec = new TextDecoder();
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => 'answered',
    (err: unknown) => (err instanceof MuxError ? err.failure : err),
  );

describe('reply mux - request/reply over one inbox subscription (real nats-server)', () => {
  let server: NatsServerHandle;
  let requester: NatsConnection;
  let responder: NatsConnection;

  beforeAll(async () => {
    // The requester may not publish to forbidden.>, as a bus role may not publish outside its grants.
    const authorization = `authorization { users: [
      { user: req, password: req, permissions: { publish: { deny: ["forbidden.>"] } } }
      { user: rsp, password: rsp }
    ] }`;
    server = await startNatsServer({ authorization });
    requester = await connect({ servers: server.url, user: 'req', pass: 'req', inboxPrefix: '_INBOX_test' });
    responder = await connect({ servers: server.url, user: 'rsp', pass: 'rsp' });
    // Echo with a delay the request names, so answers come back out of order.
    responder.subscribe('echo', {
      callback: (_e, m) => {
        const ms = Number(dec.decode(m.data).split(':')[1] ?? 0);
        setTimeout(() => m.respond(m.data), ms);
      },
    });
    responder.subscribe('acked', {
      callback: (_e, m) => {
        const h = headers();
        h.set('swarm-ack', '1');
        m.respond(new Uint8Array(), { headers: h });
        if (dec.decode(m.data) !== 'ack-only') setTimeout(() => m.respond(m.data), 200);
      },
    });
    responder.subscribe('silent', { callback: () => undefined });
    await responder.flush();
  });

  afterAll(async () => {
    await requester.close();
    await responder.close();
    await server.stop();
  });

  it('gives each of many concurrent requests its own answer, whatever order the answers come in', async () => {
    const mux = replyMuxOf(requester);
    expect(replyMuxOf(requester)).toBe(mux);
    const bodies = Array.from({ length: 200 }, (_, i) => `${i}:${(i * 7) % 23}`);
    const replies = await Promise.all(bodies.map((b) => mux.request('echo', enc.encode(b), { timeoutMs: 5_000 })));
    expect(replies.map((m) => dec.decode(m.data))).toEqual(bodies);
    // Replies come to the requester's own inbox prefix, the only one its permissions would let it read.
    expect(replies.every((m) => m.subject.startsWith('_INBOX_test.'))).toBe(true);
  });

  it('waits past an acknowledgement for the answer; without one it fails at the ack timeout', async () => {
    const mux = replyMuxOf(requester);
    // The ack timeouts that must pass are generous: a loaded test run can delay an ack by 100 ms.
    const ack = { header: 'swarm-ack', timeoutMs: 1_500 };
    const answer = await mux.request('acked', enc.encode('work'), { timeoutMs: 5_000, ack });
    expect(dec.decode(answer.data)).toBe('work');
    let t0 = Date.now();
    const shortAck = { header: 'swarm-ack', timeoutMs: 100 };
    expect(await failureOf(mux.request('silent', enc.encode('x'), { timeoutMs: 5_000, ack: shortAck }))).toBe('ack-timeout');
    expect(Date.now() - t0).toBeLessThan(2_000);
    // Acknowledged but never answered: the whole timeout, well past the ack's.
    t0 = Date.now();
    expect(await failureOf(mux.request('acked', enc.encode('ack-only'), { timeoutMs: 2_500, ack }))).toBe('timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_450);
  });

  it('fails with no-responders, timeout, a refused publish and an abort, each for what it is', async () => {
    const mux = replyMuxOf(requester);
    expect(await failureOf(mux.request('nobody.here', enc.encode('x'), { timeoutMs: 5_000 }))).toBe('no-responders');
    expect(await failureOf(mux.request('silent', enc.encode('x'), { timeoutMs: 200 }))).toBe('timeout');
    const t0 = Date.now();
    expect(await failureOf(mux.request('forbidden.x', enc.encode('x'), { timeoutMs: 10_000 }))).toBe('permission');
    expect(Date.now() - t0).toBeLessThan(5_000);
    const ctl = new AbortController();
    const reason = new Error('caller gave up');
    const aborted = mux.request('silent', enc.encode('x'), { timeoutMs: 10_000, signal: ctl.signal }).catch((e: unknown) => e);
    ctl.abort(reason);
    expect(await aborted).toMatchObject({ failure: 'aborted', cause: reason });
    // The mux still serves after every kind of failure.
    expect(dec.decode((await mux.request('echo', enc.encode('ok:0'), { timeoutMs: 5_000 })).data)).toBe('ok:0');
  });

  describe("an attacker that reads the requester's inbox (a shared role key) and may name any reply subject", () => {
    let attacker: NatsConnection;
    beforeAll(async () => {
      attacker = await connect({ servers: server.url, user: 'rsp', pass: 'rsp' });
    });
    afterAll(() => attacker.close());

    /** The reply subjects the attacker sees on the requester's inbox, in order. */
    async function watchInbox(): Promise<string[]> {
      const seen: string[] = [];
      attacker.subscribe('_INBOX_test.>', { callback: (_e, m) => seen.push(m.subject) });
      await attacker.flush();
      return seen;
    }

    it('cannot aim an answer at the next request: its token is random, not the next of those seen', async () => {
      const mux = replyMuxOf(requester);
      const seen = await watchInbox();
      for (let i = 0; i < 20; i++) await mux.request('echo', enc.encode(`warm:${i}`), { timeoutMs: 5_000 });
      // The attacker's copy of the last reply may come a moment after the requester's.
      await attacker.flush();
      const until = Date.now() + 2_000;
      while (seen.length < 20 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      const tokens = seen.map((subject) => subject.slice(subject.lastIndexOf('.') + 1));
      expect(new Set(tokens).size).toBe(20);
      expect(tokens.every((t) => /^[A-Za-z0-9_-]{16}$/.test(t))).toBe(true);
      // Every guess the seen subjects suggest (each token as base36 and base64url, plus 1 and 2; the
      // seen ones again) is answered "forged" before the requester's next request is answered.
      const last = seen[seen.length - 1];
      const prefix = last.slice(0, last.lastIndexOf('.') + 1);
      const guesses = new Set(tokens);
      for (const t of tokens) {
        const n = parseInt(t, 36);
        if (Number.isFinite(n)) for (const d of [1, 2]) guesses.add((n + d).toString(36));
      }
      for (let n = 0; n < 64; n++) guesses.add(n.toString(36));
      const answer = mux.request('echo', enc.encode('mine:100'), { timeoutMs: 5_000 });
      for (const g of guesses) attacker.publish(`${prefix}${g}`, enc.encode('forged'));
      await attacker.flush();
      expect(dec.decode((await answer).data)).toBe('mine:100');
    });

    it("cannot fail an acknowledged request with the server's no-responders status on its subject", async () => {
      const mux = replyMuxOf(requester);
      const seen = await watchInbox();
      const ack = { header: 'swarm-ack', timeoutMs: 1_500 };
      const answer = mux.request('acked', enc.encode('slow work'), { timeoutMs: 5_000, ack });
      // The acknowledgement shows the subject; the attacker sends an empty message with the status
      // line nats-server's own "no responders" has (NATS/1.0 503).
      const until = Date.now() + 2_000;
      while (seen.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      expect(seen).toHaveLength(1);
      attacker.publish(seen[0], new Uint8Array(), { headers: headers(503, 'No Responders') });
      await attacker.flush();
      expect(dec.decode((await answer).data)).toBe('slow work');
    });
  });

  it('fails requests still pending when the connection closes, and refuses new ones', async () => {
    const nc = await connect({ servers: server.url, user: 'req', pass: 'req' });
    const mux = replyMuxOf(nc);
    const pending = failureOf(mux.request('silent', enc.encode('x'), { timeoutMs: 30_000 }));
    await nc.flush();
    await nc.close();
    expect(await pending).toBe('closed');
    expect(await failureOf(mux.request('echo', enc.encode('x:0'), { timeoutMs: 1_000 }))).toBe('closed');
  });

  it('reads an answer that came while its event loop was stalled past the timeout, rather than failing it', async () => {
    // A responder in another process answers while this one is blocked; it writes `marker` once
    // its answer reached the server.
    const dir = mkdtempSync(join(tmpdir(), 'swarm-mux-stall-'));
    const marker = join(dir, 'answered');
    const script = `
      const { connect } = require('nats');
      const { writeFileSync } = require('node:fs');
      (async () => {
        const nc = await connect({ servers: process.argv[1], user: 'rsp', pass: 'rsp' });
        nc.subscribe('far.echo', { callback: async (_e, m) => { m.respond(m.data); await nc.flush(); writeFileSync(process.argv[2], ''); } });
        await nc.flush();
        process.stdout.write('ready\\n');
      })();`;
    const child = spawn(process.execPath, ['-e', script, server.url, marker], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`responder exited ${code}`)));
      });
      const TIMEOUT_MS = 100;
      const asked = failureOf(replyMuxOf(requester).request('far.echo', enc.encode('x'), { timeoutMs: TIMEOUT_MS }));
      // Let the request leave, then block the loop until the answer is on its way back, and past the timeout.
      await new Promise((resolve) => setImmediate(resolve));
      const t0 = Date.now();
      while (!existsSync(marker) && Date.now() - t0 < 10_000);
      const until = Math.max(Date.now() + 100, t0 + TIMEOUT_MS + STALLED_TIMER_MS + 100);
      while (Date.now() < until);
      expect(existsSync(marker)).toBe(true);
      expect(await asked).toBe('answered');
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
