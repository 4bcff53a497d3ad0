import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { BusService } from '@swarm/bus';
import { DEADLINE_HEADER, startBusService } from '@swarm/bus';
import type { BusRole, ChainBlocksRequest, FetchChainRequest, SubmitTaskRequest, TaskStatusRequest } from '@swarm/contracts';
import {
  AuditResponse,
  BalanceResponse,
  BUS_PERMISSIONS,
  ChainBlocksResponse,
  CreditAudit,
  CreditBalance,
  CreditChainBlocks,
  ErrorCode,
  ExecutorSkills,
  GatewayFetchChain,
  HealthResponse,
  ListSkillsResponse,
  RegistryHealth,
  RouterHealth,
  RouterSubmit,
  RouterTask,
  SubmitTaskResponse,
  SwarmError,
  TaskState,
  TaskStatusResponse,
} from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, tempDir, waitFor, swarmErrorOf } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect, nkeyAuthenticator, nkeys as untypedNkeys } from 'nats';
import type { SwarmClient } from './swarm-client';
import { BusAccessError, connectSwarm, DEFAULT_SUBMIT_TIMEOUT_MS, NodeUnreachableError } from './swarm-client';

/** nats re-exports nkeys.js typed as `any`; the calls used here, typed. */
const nkeys = untypedNkeys as { createUser(): { getSeed(): Uint8Array; getPublicKey(): string } };

jest.setTimeout(60_000);

const NODE_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const PEER_ID = 'beef'.repeat(16);
/** Generous: the machine running the suite may be busy; these bound a hang, not a speed. */
const WAIT_MS = 20_000;

/** Seed files for the client and observer roles, and the fakes' unrestricted user. */
interface BusKeys {
  seedFile(role: 'client' | 'observer' | 'fakes'): string;
  authorization: string;
}

/**
 * A closed bus as a node has: the client and observer roles with exactly their permissions from
 * BUS_PERMISSIONS, and one key with every right for the fakes standing in for the services.
 */
async function closedBusKeys(dir: string): Promise<BusKeys> {
  const users: Array<{ nkey: string; permissions?: object }> = [];
  const files = new Map<string, string>();
  for (const role of ['client', 'observer', 'fakes'] as const) {
    const kp = nkeys.createUser();
    const file = join(dir, `${role}.nk`);
    await writeFile(file, `${new TextDecoder().decode(kp.getSeed())}\n`, { mode: 0o600 });
    files.set(role, file);
    const perms = role === 'fakes' ? undefined : BUS_PERMISSIONS[role as BusRole];
    users.push({ nkey: kp.getPublicKey(), ...(perms ? { permissions: { publish: { allow: [...perms.publish] }, subscribe: { allow: [...perms.subscribe] } } } : {}) });
  }
  return { seedFile: (role) => files.get(role) as string, authorization: `authorization {\n  users = ${JSON.stringify(users)}\n}\n` };
}

type SubmitMode = 'answer' | 'insufficient' | 'crash' | 'late';

/**
 * router-svc, credit-svc and a silent registry-svc as scripted fakes on the bus: each records what
 * the client sent (and the deadline it gave), and answers as the test asks.
 */
async function startFakes(nc: NatsConnection) {
  const seen = {
    submits: [] as Array<{ req: SubmitTaskRequest; deadline: number }>,
    taskQueries: [] as TaskStatusRequest[],
    balanceAccounts: [] as string[],
    chainPages: [] as ChainBlocksRequest[],
    peerPages: [] as FetchChainRequest[],
  };
  const state = { submit: 'answer' as SubmitMode };
  const held: Array<() => void> = [];
  const start = (name: string) => startBusService({ nc, log: silentLogger(), name, version: '0.0.0', description: 'fake', nodeId: NODE_ID });
  const router: BusService = await start('router-svc');
  const credit: BusService = await start('credit-svc');
  const registry: BusService = await start('registry-svc');
  const gateway: BusService = await start('gateway-svc');
  router.serve(RouterSubmit, async (req, ctx) => {
    seen.submits.push({ req, deadline: Number(ctx.headers?.get(DEADLINE_HEADER)) });
    if (state.submit === 'insufficient') throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'available 3 < budget 5', false);
    if (state.submit === 'crash') throw new Error('ENOENT: /var/lib/swarm/secret-path');
    if (state.submit === 'late') {
      // The router's own deadline error arrives after the task's timeout has passed.
      await new Promise((r) => setTimeout(r, req.timeoutMs + 100));
      throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'router: the task ran past its deadline', true);
    }
    return SubmitTaskResponse.fromPartial({ taskId: 'task-1', cost: 4n, refunded: 1n, account: 'acct-local' });
  });
  router.serve(RouterTask, (req) => {
    seen.taskQueries.push(req);
    return TaskStatusResponse.fromPartial({ taskId: req.taskId || `task-of-${req.idempotencyKey}`, state: TaskState.TASK_STATE_PAID, cost: 4n });
  });
  router.serveHealth(RouterHealth, () => ({ inFlight: '0' }));
  credit.serve(CreditBalance, (req) => {
    seen.balanceAccounts.push(req.account);
    return BalanceResponse.fromPartial({ account: req.account || 'acct-local', available: 42n, escrowed: 5n });
  });
  credit.serve(CreditAudit, () => AuditResponse.fromPartial({ ok: true, entriesChecked: 7n }));
  credit.serve(CreditChainBlocks, (req) => {
    seen.chainPages.push(req);
    return ChainBlocksResponse.fromPartial({ blocks: [Uint8Array.of(1, 2, 3)], headSeq: 9n, nodeId: NODE_ID });
  });
  gateway.serve(GatewayFetchChain, (req) => {
    seen.peerPages.push(req);
    if (req.peerNodeId === PEER_ID) return ChainBlocksResponse.fromPartial({ blocks: [Uint8Array.of(4)], headSeq: 1n, nodeId: PEER_ID });
    throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no address known for that peer');
  });
  router.serve(ExecutorSkills, () => ListSkillsResponse.fromPartial({ skills: [{ name: 'vecadd' }], backend: 'cpu' }));
  // Takes every health request and never answers it.
  registry.serve(RegistryHealth, () => new Promise<HealthResponse>((release) => held.push(() => release(HealthResponse.fromPartial({})))));
  await nc.flush();
  return {
    seen,
    state,
    async stop() {
      for (const release of held.splice(0)) release();
      await Promise.all([router, credit, registry, gateway].map((s) => s.stop(1_000)));
    },
  };
}

/** A loopback port nobody listens on (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('swarm client - against a closed bus with fake services', () => {
  let dir: TempDir;
  let keys: BusKeys;
  let server: NatsServerHandle;
  let fakesNc: NatsConnection;
  let fakes: Awaited<ReturnType<typeof startFakes>>;
  let client: SwarmClient;

  beforeAll(async () => {
    dir = await tempDir('swarm-client-');
    keys = await closedBusKeys(dir.path);
    server = await startNatsServer({ authorization: keys.authorization });
    const fakesSeed = new TextEncoder().encode((await readFile(keys.seedFile('fakes'), 'utf8')).trim());
    // The fakes' connection may take its time when the suite starts beside every other (a clean-clone
    // CI run once took over nats.js's default 20 s for its handshake); that is no client behaviour.
    fakesNc = await connect({ servers: server.url, authenticator: nkeyAuthenticator(fakesSeed), timeout: 60_000 });
    fakes = await startFakes(fakesNc);
    client = await connectSwarm(server.url, { nkeyFile: keys.seedFile('client') });
  }, 120_000);

  afterEach(() => {
    fakes.state.submit = 'answer';
    fakes.seen.submits.length = 0;
  });

  afterAll(async () => {
    await client?.close();
    await fakes?.stop();
    await fakesNc?.drain();
    await server?.stop();
    await dir?.remove();
  });

  describe('requests', () => {
    it('submits with the default task deadline when none is given, and returns the router reply', async () => {
      const reply = await client.submit({ skill: 'vecadd', inputs: [], budget: 5n });
      expect(reply).toMatchObject({ taskId: 'task-1', cost: 4n, refunded: 1n });
      expect(fakes.seen.submits[0]?.req).toMatchObject({ skill: 'vecadd', budget: 5n, timeoutMs: DEFAULT_SUBMIT_TIMEOUT_MS, idempotencyKey: '' });
    });

    it('passes the caller deadline and idempotency key through, and waits past that deadline for the router', async () => {
      const before = Date.now();
      await client.submit({ skill: 'vecadd', inputs: [], budget: 5n, timeoutMs: 1_234, idempotencyKey: 'job-7' });
      const sent = fakes.seen.submits[0];
      expect(sent?.req).toMatchObject({ timeoutMs: 1_234, idempotencyKey: 'job-7' });
      // The request's own deadline lies beyond the task's, so the router's verdict can still arrive.
      expect(sent?.deadline).toBeGreaterThan(before + 1_234);
    });

    it("gets the router's deadline error, not a client timeout, when the task runs past its deadline", async () => {
      fakes.state.submit = 'late';
      const err = await swarmErrorOf(client.submit({ skill: 'vecadd', inputs: [], budget: 5n, timeoutMs: 200 }));
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, message: 'router: the task ran past its deadline' });
    });

    it('reads the balance of this node when no account is named, and of an account when one is', async () => {
      expect(await client.balance()).toMatchObject({ account: 'acct-local', available: 42n, escrowed: 5n });
      expect(await client.balance('acct-other')).toMatchObject({ account: 'acct-other' });
      expect(fakes.seen.balanceAccounts.slice(-2)).toEqual(['', 'acct-other']);
    });

    it('asks for a task by id or by idempotency key, sending the other field empty', async () => {
      expect(await client.task({ taskId: 'task-9' })).toMatchObject({ taskId: 'task-9', state: TaskState.TASK_STATE_PAID });
      expect(await client.task({ idempotencyKey: 'job-7' })).toMatchObject({ taskId: 'task-of-job-7' });
      expect(fakes.seen.taskQueries.slice(-2)).toEqual([
        { taskId: 'task-9', idempotencyKey: '', account: '' },
        { taskId: '', idempotencyKey: 'job-7', account: '' },
      ]);
    });

    it('lists skills and reads a service health', async () => {
      expect(await client.skills()).toMatchObject({ skills: [expect.objectContaining({ name: 'vecadd' })], backend: 'cpu' });
      expect(await client.health('router')).toMatchObject({ nodeId: NODE_ID, details: { inFlight: '0' } });
    });
  });

  describe('errors become SwarmErrors with stable codes', () => {
    it('carries a service refusal with its code, retryability and message', async () => {
      fakes.state.submit = 'insufficient';
      const err = await swarmErrorOf(client.submit({ skill: 'vecadd', inputs: [], budget: 5n }));
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, codeName: 'SWARM_INSUFFICIENT_CREDIT', retryable: false, message: 'available 3 < budget 5' });
    });

    it("turns a service's unexpected failure into INTERNAL without its internal text", async () => {
      fakes.state.submit = 'crash';
      const err = await swarmErrorOf(client.submit({ skill: 'vecadd', inputs: [], budget: 5n }));
      expect(err.code).toBe(ErrorCode.ERROR_CODE_INTERNAL);
      expect(err.message).not.toMatch(/secret-path|ENOENT/);
    });

    it('answers UNAVAILABLE (retryable) when no service serves the subject', async () => {
      const err = await swarmErrorOf(client.health('gateway', WAIT_MS));
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, codeName: 'SWARM_UNAVAILABLE', retryable: true, message: expect.stringMatching(/no gateway-svc/) });
    });

    it('answers DEADLINE_EXCEEDED (retryable) when a service takes the request and never answers', async () => {
      const err = await swarmErrorOf(client.health('registry', 300));
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, retryable: true, message: expect.stringMatching(/did not answer within 300 ms/) });
    });

    it('answers PERMISSION_DENIED for what the client role may not ask (the audit is for operators)', async () => {
      const err = await swarmErrorOf(client.audit(WAIT_MS));
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED, retryable: false });
    });

    it('lets the observer role audit, and count instances, which the client role may not', async () => {
      const observer = await connectSwarm(server.url, { nkeyFile: keys.seedFile('observer'), role: 'observer' });
      try {
        expect(await observer.audit()).toMatchObject({ ok: true, entriesChecked: 7n });
        const found = await observer.instances('router', 1_000);
        expect(found).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ nodeId: NODE_ID }) })]);
        const refused = await swarmErrorOf(client.instances('router', 1_000));
        expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED, codeName: 'SWARM_PERMISSION_DENIED', retryable: false });
      } finally {
        await observer.close();
      }
    });

    it('counts an instance once however many times it answers a ping', async () => {
      const observer = await connectSwarm(server.url, { nkeyFile: keys.seedFile('observer'), role: 'observer' });
      const twice = fakesNc.subscribe('$SRV.PING.router-svc', {
        callback: (_err, m) => {
          const ping = new TextEncoder().encode(JSON.stringify({ id: 'answers-twice', metadata: {} }));
          m.respond(ping);
          m.respond(ping);
        },
      });
      try {
        await fakesNc.flush();
        const found = await observer.instances('router', 1_000);
        expect(found.map((f) => f.id).filter((id) => id === 'answers-twice')).toEqual(['answers-twice']);
        expect(found).toHaveLength(2);
      } finally {
        twice.unsubscribe();
        await observer.close();
      }
    });
  });

  describe("chain pages: the node's own and a peer's (observer role)", () => {
    it('asks credit-svc for a page of the chain and the gateway for a page of a peer, passing the page asked', async () => {
      const observer = await connectSwarm(server.url, { nkeyFile: keys.seedFile('observer'), role: 'observer' });
      try {
        expect(await observer.chainBlocks(5n, 100)).toEqual({ blocks: [Uint8Array.of(1, 2, 3)], headSeq: 9n, nodeId: NODE_ID });
        expect(await observer.fetchChain(PEER_ID, 1n, 0)).toEqual({ blocks: [Uint8Array.of(4)], headSeq: 1n, nodeId: PEER_ID });
        expect(fakes.seen.chainPages.at(-1)).toEqual({ fromSeq: 5n, limit: 100 });
        expect(fakes.seen.peerPages.at(-1)).toEqual({ peerNodeId: PEER_ID, fromSeq: 1n, limit: 0 });
        // The gateway's refusal arrives as its SwarmError.
        expect(await swarmErrorOf(observer.fetchChain('ab'.repeat(32), 1n, 0))).toMatchObject({
          code: ErrorCode.ERROR_CODE_UNAVAILABLE,
          message: 'no address known for that peer',
        });
      } finally {
        await observer.close();
      }
    });

    it('refuses both to the client role', async () => {
      expect(await swarmErrorOf(client.chainBlocks(1n, 0))).toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED });
      expect(await swarmErrorOf(client.fetchChain(PEER_ID, 1n, 0))).toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED });
    });
  });

  describe('connecting', () => {
    it('refuses a connection without a key with SWARM_BUS_DENIED, naming what to use', async () => {
      const err = await connectSwarm(server.url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BusAccessError);
      expect(err).toMatchObject({ code: 'SWARM_BUS_DENIED', message: expect.stringMatching(/client\.nk/) });
    });

    it('refuses a key the bus does not know with SWARM_BUS_DENIED', async () => {
      const stranger = join(dir.path, 'stranger.nk');
      await writeFile(stranger, `${new TextDecoder().decode(nkeys.createUser().getSeed())}\n`, { mode: 0o600 });
      await expect(connectSwarm(server.url, { nkeyFile: stranger })).rejects.toMatchObject({ code: 'SWARM_BUS_DENIED', message: expect.stringContaining(stranger) });
    });

    it('reports SWARM_NO_NODE when nothing listens at the URL', async () => {
      const url = `nats://127.0.0.1:${await freePort()}`;
      const err = await connectSwarm(url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NodeUnreachableError);
      expect(err).toMatchObject({ code: 'SWARM_NO_NODE', message: expect.stringContaining(url) });
    });
  });

  describe('close', () => {
    it('drains, after which requests and discovery fail UNAVAILABLE, and a second close() still resolves', async () => {
      const own = await connectSwarm(server.url, { nkeyFile: keys.seedFile('client') });
      await own.balance();
      await own.close();
      const err = await swarmErrorOf(own.balance());
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true });
      expect(await swarmErrorOf(own.instances('router'))).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true });
      await expect(own.close()).resolves.toBeUndefined();
    });
  });
});

describe('swarm client - a node that goes away', () => {
  it('close() resolves once the bus is gone, rather than rejecting or hanging', async () => {
    const server = await startNatsServer();
    const client = await connectSwarm(server.url);
    await server.stop();
    await expect(client.close()).resolves.toBeUndefined();
  });

  it('close() resolves after the connection already closed itself', async () => {
    const server = await startNatsServer();
    const client = await connectSwarm(server.url);
    await server.stop();
    // The client gives up reconnecting after a few attempts and closes; then close() has nothing to drain.
    await waitFor(
      () =>
        client.health('router', 200).then(
          () => false,
          (e: unknown) => e instanceof SwarmError && /connection unavailable/.test(e.message),
        ),
      { timeoutMs: WAIT_MS, intervalMs: 200, what: 'the client connection closed' },
    );
    await expect(client.close()).resolves.toBeUndefined();
  });
});
