import type { BusClient } from '@swarm/bus';
import type { ExecuteRequest, Provider, Rpc } from '@swarm/contracts';
import { CreditCharge, CreditEscrow, ErrorCode, EscrowState, GatewayExecute, Provider as ProviderCodec, RegistryFindProviders, SwarmError } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { ChargeNotServed } from '@swarm/pipeline';
import { ErrorCode as NatsErrorCode } from 'nats';
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
});

describe('router-svc bus ports - a charge no credit-svc serves', () => {
  /** What a BusClient request rejects with when the bus delivered it to nobody. */
  const noResponders = (subject: string) =>
    new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `no credit-svc is serving ${subject}`, true, { cause: Object.assign(new Error('503'), { code: NatsErrorCode.NoResponders }) });

  /** credit.charge reaches nobody; credit.escrow is answered by an older credit-svc, or by nobody (credit-svc down). */
  function creditBus(escrow: 'answered' | 'down') {
    const asked: string[] = [];
    const bus = {
      request: async (rpc: Rpc<unknown, unknown>) => {
        asked.push(rpc.subject);
        if (rpc.subject === CreditCharge.subject) throw noResponders(rpc.subject);
        if (rpc.subject === CreditEscrow.subject && escrow === 'answered') return { escrowId: 't-1', state: EscrowState.ESCROW_STATE_NONE };
        throw noResponders(rpc.subject);
      },
    } as unknown as BusClient;
    return { bus, asked };
  }

  it('says ChargeNotServed when credit-svc answers an escrow read, and passes the retryable error on when credit-svc answers nothing', async () => {
    const time = virtualTime();
    const payouts = [{ payee: SELF, amount: 1n }];
    const older = creditBus('answered');
    const refused = await createBusPorts(older.bus, time.stopwatch, SELF, 1_000)
      .charge('t-1', 'acct', 2n, payouts, 5_000)
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ChargeNotServed);
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: false, message: expect.stringMatching(/older than this router-svc/) });
    expect(older.asked).toEqual([CreditCharge.subject, CreditEscrow.subject]);

    const down = creditBus('down');
    const failed = await createBusPorts(down.bus, time.stopwatch, SELF, 1_000)
      .charge('t-1', 'acct', 2n, payouts, 5_000)
      .catch((err: unknown) => err);
    expect(failed).not.toBeInstanceOf(ChargeNotServed);
    expect(failed).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true });
  });
});
