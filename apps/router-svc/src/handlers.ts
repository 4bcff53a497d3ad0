import { Handler } from '@swarm/bus';
import { ErrorCode, SubmitTaskRequest, SubmitTaskResponse, SwarmError } from '@swarm/contracts';
import { RouterComponents, RouterLimits, runTask } from '@swarm/routing';
import { RouterConfig } from './config';

export interface SubmitDeps {
  components: RouterComponents;
  limits: RouterLimits;
  config: RouterConfig;
  nodeId: string;
  newTaskId(): string;
  /** Aborted when the router stops: in-flight tasks end early and refund before NATS drains. */
  shutdown: AbortSignal;
  onFinished(taskId: string, skill: string, outcome: { ok: true; cost: bigint; totalMs: number } | { ok: false; error: unknown; totalMs: number }): void;
}

export function submitHandler(deps: SubmitDeps): Handler<SubmitTaskRequest, SubmitTaskResponse> {
  return async (req, ctx) => {
    // Until requests are signed, the node spends only its own account, and task ids (which are
    // escrow ids) come only from the router, so a client cannot replay or collide with one.
    if (req.account && req.account !== deps.nodeId) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, "this node pays only from its own account; leave 'account' empty");
    }
    if (req.taskId) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, "task ids are assigned by the router; leave 'taskId' empty");
    }
    const taskId = deps.newTaskId();
    const account = deps.nodeId;
    if (req.timeoutMs > deps.config.maxTimeoutMs) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `timeoutMs must be at most ${deps.config.maxTimeoutMs}`);
    }
    const timeoutMs = req.timeoutMs || deps.config.defaultTimeoutMs;
    const log = ctx.log.child({ taskId, skill: req.skill });
    const started = deps.components.clock.now();
    try {
      const out = await runTask(
        deps.components,
        deps.limits,
        { taskId, skill: req.skill, inputs: req.inputs, budget: req.budget, timeoutMs, account },
        AbortSignal.any([AbortSignal.timeout(timeoutMs), deps.shutdown]),
      );
      log.info({ cost: String(out.cost), executorId: out.executorId, totalMs: out.timing.totalMs, attempts: out.attempts.length }, 'task done');
      deps.onFinished(taskId, req.skill, { ok: true, cost: out.cost, totalMs: out.timing.totalMs });
      return {
        taskId,
        outputs: out.outputs,
        cost: out.cost,
        refunded: out.refunded,
        timing: out.timing,
        providerId: out.providerId,
        executorId: out.executorId,
        backend: out.backend,
        verification: out.verification,
        attempts: out.attempts.length,
        account,
      };
    } catch (error) {
      log.info({ err: error }, 'task failed');
      deps.onFinished(taskId, req.skill, { ok: false, error, totalMs: deps.components.clock.now() - started });
      throw error;
    }
  };
}
