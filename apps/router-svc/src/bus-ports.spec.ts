import type { BusClient } from '@swarm/bus';
import type { ExecuteRequest, Provider, Rpc } from '@swarm/contracts';
import { ErrorCode, GatewayExecute, Provider as ProviderCodec, RegistryFindProviders, SwarmError } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { createBusPorts, UNREACHABLE_PROVIDER_MS } from './bus-ports';

const SELF = 'a'.repeat(64);
const PEER = 'b'.repeat(64);
const TASK: ExecuteRequest = { taskId: 't-1', skill: 'vecadd', inputs: [], timeoutMs: 1_000 };

/** A bus whose registry lists this node (capacity 2) and PEER, whose gateway refuses every task, and whose executors answer when told. */
function fakeBus() {
  const providers: Provider[] = [
    ProviderCodec.fromPartial({ nodeId: SELF, local: true, skills: ['vecadd'], capacity: 2 }),
    ProviderCodec.fromPartial({ nodeId: PEER, local: false, skills: ['vecadd'], endpoint: `${PEER}@127.0.0.1:9`, rttMs: 1 }),
  ];
  const pending: Array<() => void> = [];
  const bus = {
    request: async (rpc: Rpc<unknown, unknown>) => {
      if (rpc.subject === RegistryFindProviders.subject) return { providers };
      if (rpc.subject === GatewayExecute.subject) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'peer unreachable');
      throw new Error(`unexpected ${rpc.subject}`);
    },
    requestAcked: () =>
      new Promise((resolve) => {
        pending.push(() => resolve({ taskId: TASK.taskId, outputs: [], providerId: SELF, executorId: 'e', backend: 'cpu', executeMs: 1 }));
      }),
  } as unknown as BusClient;
  return { bus, finishLocal: () => pending.splice(0).forEach((f) => f()) };
}

describe('router-svc bus ports - what the selector learns about providers', () => {
  it('reports the local executors load from the tasks in flight on them, saturated at the advertised capacity', async () => {
    const time = virtualTime();
    const { bus, finishLocal } = fakeBus();
    const ports = createBusPorts(bus, time.stopwatch, SELF, 1_000);
    const signal = new AbortController().signal;
    const localLoad = async () => (await ports.findProviders('vecadd', signal)).find((c) => c.local)?.load;
    expect(await localLoad()).toBe(0);
    const local = (await ports.findProviders('vecadd', signal)).find((c) => c.local);
    const running = [ports.execute(local!, TASK, signal), ports.execute(local!, TASK, signal)];
    expect(await localLoad()).toBe(1);
    finishLocal();
    await Promise.all(running);
    expect(await localLoad()).toBe(0);
  });

  it('leaves a remote provider it could not reach out of the candidates for a while', async () => {
    const time = virtualTime();
    const { bus } = fakeBus();
    const ports = createBusPorts(bus, time.stopwatch, SELF, 1_000);
    const signal = new AbortController().signal;
    const remote = (await ports.findProviders('vecadd', signal)).find((c) => !c.local);
    expect(remote?.nodeId).toBe(PEER);
    await expect(ports.execute(remote!, TASK, signal)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    expect((await ports.findProviders('vecadd', signal)).map((c) => c.nodeId)).toEqual([SELF]);
    await time.advance(UNREACHABLE_PROVIDER_MS);
    expect((await ports.findProviders('vecadd', signal)).map((c) => c.nodeId)).toEqual([SELF, PEER]);
  });

  it('says the remote providers it knows are out of reach, and for how long, when they are all it knows (not that the registry knows none)', async () => {
    const time = virtualTime();
    const { bus } = fakeBus();
    const remoteOnly: BusClient = {
      ...bus,
      request: async (rpc: Rpc<unknown, unknown>, req: unknown, opts: unknown) => {
        const r = (await (bus.request as (a: unknown, b: unknown, c: unknown) => Promise<{ providers?: Provider[] }>)(rpc, req, opts)) ?? {};
        return rpc.subject === RegistryFindProviders.subject ? { providers: (r.providers ?? []).filter((p) => !p.local) } : r;
      },
    } as BusClient;
    const ports = createBusPorts(remoteOnly, time.stopwatch, SELF, 1_000);
    const signal = new AbortController().signal;
    const [remote] = await ports.findProviders('vecadd', signal);
    await expect(ports.execute(remote, TASK, signal)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    await time.advance(10_000);
    await expect(ports.findProviders('vecadd', signal)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NO_PROVIDER,
      retryable: true,
      retryAfterMs: UNREACHABLE_PROVIDER_MS - 10_000,
      message: expect.stringMatching(/knows 1 provider\(s\) of vecadd on peers, but this node could not reach it lately; it tries again in 20000 ms/),
    });
  });
});
