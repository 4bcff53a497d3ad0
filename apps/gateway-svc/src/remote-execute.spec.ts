import type { BusClient } from '@swarm/bus';
import type { ExecuteRequest, ExecuteResponse } from '@swarm/contracts';
import { CreditStanding, decodeTensors, ErrorCode, ExecutorExecute, ExecutorSkills, RegistryNodeRecord, SkillInfo, SwarmError, toTensor } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import { manualClock, virtualTime } from '@swarm/determinism';
import { swarmErrorOf } from '@swarm/testing';
import { createServeTickets, encodeTask, nodeIdOfKey, openSignedResult, serveTicketCap } from '@swarm/records';
import { priceOf } from '@swarm/skills';
import { NO_TRACE, silentLogger } from '@swarm/telemetry';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { createInstalledSkills, SKILLS_CACHE_MS } from './installed-skills';
import { createPeerStanding } from './peer-standing';
import { createPeerExecuteHandler, EXECUTOR_REPLY_SLACK_MS, EXECUTORS_DOWN_RETRY_AFTER_MS } from './remote-execute';
import { createSubmitterRecords } from './submitter-records';
import { createUnpaidServes, DEFAULT_UNPAID_SERVE_LIMITS } from './unpaid-serves';

function nodeKey() {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(12));
  return { nodeId: nodeIdOfKey(publicKey), publicKey, sign: (data: Uint8Array) => new Uint8Array(sign(null, data, privateKey)) };
}

const task: ExecuteRequest = { taskId: 'task-1', skill: 'vecadd', inputs: [toTensor('a', [1], Float32Array.of(1)), toTensor('b', [1], Float32Array.of(2))], timeoutMs: 3_000 };

const NOW = 1_800_000_000_000;
/** The submitting peer of every call below. */
const PEER = 'peer-1';

/**
 * A bus whose executors run `run` and list `skills`, whose registry finds a record for the
 * nodes in `withRecords` (a peer id, expiring in an hour) and whose ledger answers `standings`
 * (0 for any other node), recording what was asked.
 */
function executorBus(
  skills: string[],
  run: (t: ExecuteRequest) => Promise<ExecuteResponse> | ExecuteResponse,
  withRecords: readonly string[] = [PEER],
  standings: Readonly<Record<string, bigint>> = {},
) {
  const asked: string[] = [];
  const bus: BusClient = {
    request: async (rpc, req) => {
      asked.push(rpc.subject);
      if (rpc.subject === CreditStanding.subject) {
        const { nodeId } = req as { nodeId: string };
        return { nodeId, earnedInWindow: standings[nodeId] ?? 0n, windowMs: 3_600_000n } as never;
      }
      if (rpc.subject === RegistryNodeRecord.subject) {
        const found = withRecords.includes((req as { nodeId: string }).nodeId);
        return { found, expiresAtMs: found ? BigInt(NOW + 3_600_000) : 0n, gatewayAddress: found ? '10.0.0.9:7400' : '' } as never;
      }
      if (rpc.subject !== ExecutorSkills.subject) throw new Error(`unexpected ${rpc.subject}`);
      return { skills: skills.map((name) => SkillInfo.fromPartial({ name })), backend: 'cpu' } as never;
    },
    requestAcked: async (rpc, req, opts) => {
      asked.push(`${rpc.subject} ${opts.timeoutMs}`);
      return (await run(req as ExecuteRequest)) as never;
    },
    publish: () => undefined,
    subscribe: () => {
      throw new Error('not used');
    },
  };
  return { bus, asked };
}

const answer = (t: ExecuteRequest): ExecuteResponse => ({
  taskId: t.taskId,
  outputs: [toTensor('c', [1], Float32Array.of(3))],
  executorId: 'e1',
  providerId: 'p',
  backend: 'cpu',
  executeMs: 1,
});
const call = (request: { task?: ExecuteRequest }, peerId = PEER) => ({ peerId, network: '10.0.0.0/24', request, signal: new AbortController().signal, trace: NO_TRACE });
/** The policy's parts over one bus, on a clock that stands still (queue waits on virtual time). */
const policy = (bus: BusClient, stopwatch: Stopwatch = manualClock(0)) => ({
  skills: createInstalledSkills(bus, stopwatch),
  submitters: createSubmitterRecords(bus, manualClock(NOW), stopwatch),
  standing: createPeerStanding(bus, stopwatch, silentLogger()),
  unpaid: createUnpaidServes(DEFAULT_UNPAID_SERVE_LIMITS, stopwatch),
  scheduler: virtualTime(NOW).scheduler,
});
/** The node key, and the serve tickets made from it, as gateway-svc wires them. */
const signing = (key: ReturnType<typeof nodeKey>) => ({ signer: key, tickets: createServeTickets(key) });
/** The handler's answer as a promise (a handler may answer synchronously). */
const run = (handle: ReturnType<typeof createPeerExecuteHandler>, request: { task?: ExecuteRequest }, peerId = PEER) => Promise.resolve(handle(call(request, peerId)));

describe('gateway-svc - running peers’ tasks', () => {
  it('runs the task as sent on the executors and signs the answer with the node key', async () => {
    const key = nodeKey();
    const { bus, asked } = executorBus(['vecadd'], answer);
    const handle = createPeerExecuteHandler({ bus, ...signing(key), ...policy(bus), log: silentLogger() });
    const signed = await run(handle, { task });
    expect(openSignedResult(signed, key.nodeId, encodeTask(task))).toEqual(answer(task));
    // With the ticket its receipt must carry: for this peer and this task only.
    expect(createServeTickets(key).holds(PEER, task.taskId, signed.serveTicket)).toBe(true);
    expect(createServeTickets(key).holds('peer-2', task.taskId, signed.serveTicket)).toBe(false);
    // Capped at what the task can be worth: SERVE_TICKET_PRICE_FACTOR times its price.
    expect(createServeTickets(key).capOf(PEER, task.taskId, signed.serveTicket)).toBe(serveTicketCap(priceOf(task.skill, decodeTensors(task.inputs))));
    expect(asked).toEqual([RegistryNodeRecord.subject, ExecutorSkills.subject, `${ExecutorExecute.subject} ${task.timeoutMs + EXECUTOR_REPLY_SLACK_MS}`]);
  });

  it('runs no more tasks for a peer that would owe more than the bound for tasks run for it, until it pays', async () => {
    const { bus } = executorBus(['vecadd'], answer);
    const parts = { ...policy(bus), unpaid: createUnpaidServes({ ...DEFAULT_UNPAID_SERVE_LIMITS, maxCredits: 2n }, manualClock(0)) };
    const handle = createPeerExecuteHandler({ bus, ...signing(nodeKey()), ...parts, log: silentLogger() });
    await run(handle, { task });
    await run(handle, { task: { ...task, taskId: 'task-2' } });
    const refused = await swarmErrorOf(run(handle, { task: { ...task, taskId: 'task-3' } }));
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, message: expect.stringMatching(/while it owes 2 credits/) });
    // Once it pays, it is served again.
    parts.unpaid.paid(PEER, task.taskId, 1n);
    await run(handle, { task: { ...task, taskId: 'task-3' } });
  });

  it('refuses a submitter with no valid record on the DHT with PERMISSION_DENIED, asking the executors nothing', async () => {
    const { bus, asked } = executorBus(['vecadd'], answer, []);
    const handle = createPeerExecuteHandler({ bus, ...signing(nodeKey()), ...policy(bus), log: silentLogger() });
    await expect(run(handle, { task })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
      message: expect.stringMatching(/^node peer-1… has no valid record on the DHT/),
    });
    expect(asked).toEqual([RegistryNodeRecord.subject]);
  });

  it("answers UNAVAILABLE, running nothing, when this node's registry cannot tell", async () => {
    for (const failure of [
      new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no registry-svc is serving', true),
      new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'timed out', true),
    ]) {
      const { bus, asked } = executorBus(['vecadd'], answer);
      const silent: BusClient = {
        ...bus,
        request: (rpc, req, opts) => (rpc.subject === RegistryNodeRecord.subject ? Promise.reject(failure) : bus.request(rpc, req, opts)),
      };
      const handle = createPeerExecuteHandler({ bus: silent, ...signing(nodeKey()), ...policy(silent), log: silentLogger() });
      await expect(run(handle, { task })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_UNAVAILABLE,
        retryable: true,
        message: expect.stringMatching(/cannot check the record of node peer-1…/),
      });
      expect(asked).toEqual([]);
    }
  });

  it('refuses with OVERLOADED, retry hint included, once peers’ tasks fill its share of the executors', async () => {
    const releases: Array<() => void> = [];
    const { bus } = executorBus(['vecadd'], (t) => new Promise((resolve) => releases.push(() => resolve(answer(t)))));
    const handle = createPeerExecuteHandler({ bus, ...signing(nodeKey()), ...policy(bus), log: silentLogger(), peerTasks: { maxRunning: 2, maxWaiting: 0, maxWaitMs: 2_000 } });
    const running = [run(handle, { task }), run(handle, { task })];
    await new Promise((resolve) => setImmediate(resolve));
    const refused = await run(handle, { task }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, message: expect.stringMatching(/2 tasks for peers \(limit 2\)/) });
    expect((refused as SwarmError).retryAfterMs).toBeGreaterThan(0);
    releases.forEach((release) => release());
    await Promise.all(running);
    // Room again once they finished.
    const next = run(handle, { task });
    await new Promise((resolve) => setImmediate(resolve));
    releases.at(-1)?.();
    await expect(next).resolves.toHaveProperty('signature');
  });

  it('when congested, serves a peer that earned credit here before a free rider that came first, asking the ledger only then', async () => {
    const [SERVER, RIDER] = ['peer-server', 'peer-rider'];
    const started: string[] = [];
    const releases: Array<() => void> = [];
    const { bus, asked } = executorBus(
      ['vecadd'],
      (t) =>
        new Promise((resolve) => {
          started.push(t.taskId);
          releases.push(() => resolve(answer(t)));
        }),
      [PEER, SERVER, RIDER],
      { [SERVER]: 120n },
    );
    const handle = createPeerExecuteHandler({ bus, ...signing(nodeKey()), ...policy(bus), log: silentLogger(), peerTasks: { maxRunning: 1, maxWaiting: 4, maxWaitMs: 2_000 } });
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const busy = run(handle, { task: { ...task, taskId: 'busy' } });
    await tick();
    // The only slot is taken; the free rider queues first, the serving peer after it.
    const rider = run(handle, { task: { ...task, taskId: 'rider' } }, RIDER);
    await tick();
    const server = run(handle, { task: { ...task, taskId: 'server' } }, SERVER);
    await tick();
    expect(started).toEqual(['busy']);
    releases[0]();
    await busy;
    await tick();
    expect(started).toEqual(['busy', 'server']);
    releases[1]();
    await server;
    await tick();
    expect(started).toEqual(['busy', 'server', 'rider']);
    releases[2]();
    await expect(rider).resolves.toHaveProperty('signature');
    // The uncongested first task asked no standing; each queued peer once.
    expect(asked.filter((s) => s === CreditStanding.subject)).toHaveLength(2);
  });

  it('passes on what the executors answer (OVERLOADED), and answers OVERLOADED with when to retry when none answers (one restarting), not UNAVAILABLE', async () => {
    const { bus } = executorBus(['vecadd'], () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'from the executors', true, { retryAfterMs: 300 });
    });
    const handle = createPeerExecuteHandler({ bus, ...signing(nodeKey()), ...policy(bus), log: silentLogger() });
    await expect(run(handle, { task })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryAfterMs: 300 });
    const restarting = {
      code: ErrorCode.ERROR_CODE_OVERLOADED,
      retryable: true,
      retryAfterMs: EXECUTORS_DOWN_RETRY_AFTER_MS,
      message: expect.stringMatching(/executors are not answering now/),
    };
    // The executor that took the task died (no answer), and no executor answers the skills check.
    const died = executorBus(['vecadd'], () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'executor-svc did not acknowledge', true);
    }).bus;
    await expect(run(createPeerExecuteHandler({ bus: died, ...signing(nodeKey()), ...policy(died), log: silentLogger() }), { task })).rejects.toMatchObject(restarting);
    const none = executorBus([], answer).bus;
    const silent: BusClient = {
      ...none,
      request: (rpc, req, opts) =>
        rpc === ExecutorSkills ? Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no executor-svc is serving', true)) : none.request(rpc, req, opts),
    };
    await expect(run(createPeerExecuteHandler({ bus: silent, ...signing(nodeKey()), ...policy(silent), log: silentLogger() }), { task })).rejects.toMatchObject(restarting);
  });
});

describe('gateway-svc - installed skills', () => {
  it('asks the executors once per SKILLS_CACHE_MS, concurrent askers sharing one request', async () => {
    const stopwatch = manualClock(0);
    const { bus, asked } = executorBus(['vecadd', 'matmul'], answer);
    const skills = createInstalledSkills(bus, stopwatch);
    await expect(Promise.all([skills.has('vecadd'), skills.has('mlp'), skills.has('matmul')])).resolves.toEqual([true, false, true]);
    stopwatch.advance(SKILLS_CACHE_MS - 1);
    await skills.has('vecadd');
    expect(asked).toHaveLength(1);
    stopwatch.advance(1);
    await skills.has('vecadd');
    expect(asked).toHaveLength(2);
  });

  it('answers UNAVAILABLE when no executor answers', async () => {
    const bus = executorBus([], answer).bus;
    const silent: BusClient = { ...bus, request: () => Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no executor-svc is serving', true)) };
    await expect(createInstalledSkills(silent, manualClock(0)).has('vecadd')).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      message: expect.stringMatching(/no executor on this node/),
    });
  });
});
