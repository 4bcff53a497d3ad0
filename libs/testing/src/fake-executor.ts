/**
 * A stand-in executor-svc on a node's bus: in the executor queue group, acknowledging each task on
 * arrival as the real one does (libs/bus `ack`), running vecadd only, recording what reached it.
 * `gate` holds each answer until it resolves, so a test can place an event (a service going down)
 * between dispatch and result without racing the kernel; `state.mode = 'overloaded'` refuses tasks.
 */
import type { BusService } from '@swarm/bus';
import { startBusService } from '@swarm/bus';
import type { ExecuteRequest, ExecuteResponse } from '@swarm/contracts';
import { ErrorCode, EXECUTOR_QUEUE, ExecutorExecute, ExecutorSkills, fromTensor, SkillInfo, SwarmError, toTensor } from '@swarm/contracts';
import type { Logger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';

export type FakeExecutorMode = 'honest' | 'overloaded';

export interface FakeExecutor {
  readonly seen: ExecuteRequest[];
  readonly state: { mode: FakeExecutorMode };
  stop(): Promise<void>;
}

export async function startFakeExecutor(opts: { nc: NatsConnection; nodeId: string; log: Logger; gate?: (task: ExecuteRequest) => Promise<void> }): Promise<FakeExecutor> {
  const seen: ExecuteRequest[] = [];
  const state = { mode: 'honest' as FakeExecutorMode };
  const svc: BusService = await startBusService({ nc: opts.nc, log: opts.log, name: 'executor-svc', version: '0.0.0', description: 'fake executor', nodeId: opts.nodeId });
  svc.serve(
    ExecutorExecute,
    async (task): Promise<ExecuteResponse> => {
      seen.push(task);
      if (state.mode === 'overloaded') throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'executor busy: 2 running and 32 queued', true, { retryAfterMs: 400 });
      await opts.gate?.(task);
      const [a, b] = task.inputs.map(fromTensor);
      const sum = a.data.map((x, i) => x + b.data[i]);
      return { taskId: task.taskId, outputs: [toTensor('c', a.shape, sum)], executorId: 'fake-exec', providerId: opts.nodeId, backend: 'cpu', executeMs: 0.1 };
    },
    { queue: EXECUTOR_QUEUE, ack: true },
  );
  svc.serve(ExecutorSkills, () => ({ skills: [SkillInfo.fromPartial({ name: 'vecadd' })], backend: 'cpu' }), { queue: EXECUTOR_QUEUE });
  await opts.nc.flush();
  let stopped: Promise<void> | undefined;
  return { seen, state, stop: () => (stopped ??= svc.stop(1_000)) };
}
