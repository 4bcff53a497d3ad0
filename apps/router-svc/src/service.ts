import { randomUUID } from 'node:crypto';
import { startBusService, toWire } from '@swarm/bus';
import { ErrorCode, RouterHealth, RouterSubmit, SwarmError, TaskFinishedEvents } from '@swarm/contracts';
import { Clock, monotonicClock, Random } from '@swarm/determinism';
import { DEFAULT_ROUTER_LIMITS } from '@swarm/routing';
import type { Logger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { createBusPorts } from './bus-ports';
import { RouterConfig } from './config';
import { submitHandler } from './handlers';

export const ROUTER_VERSION = '0.1.0';

export interface RouterServiceDeps {
  config: RouterConfig;
  log: Logger;
  nc: NatsConnection;
  nodeId: string;
  clock: Clock;
  random: Random;
}

export interface RouterService {
  stop(): Promise<void>;
}

export async function startRouterService(deps: RouterServiceDeps): Promise<RouterService> {
  const { config, log, nc, nodeId, clock, random } = deps;
  const svc = await startBusService({ nc, log, name: 'router-svc', version: ROUTER_VERSION, description: 'Task intake, escrow, dispatch, verification, settlement', nodeId });
  const limits = { ...DEFAULT_ROUTER_LIMITS, maxAttempts: config.maxAttempts, maxElements: config.maxElements };
  let finished = 0;
  const stopping = new AbortController();
  svc.serve(
    RouterSubmit,
    submitHandler({
      components: { ports: createBusPorts(svc.client, clock), clock, stopwatch: monotonicClock, random },
      limits,
      config,
      nodeId,
      newTaskId: () => `task-${randomUUID()}`,
      shutdown: stopping.signal,
      onFinished(taskId, skill, outcome) {
        finished += 1;
        // Best effort: the task's outcome is already decided; a failed event must not change it.
        try {
          svc.client.publish(TaskFinishedEvents, {
          taskId,
          skill,
          ok: outcome.ok,
          cost: outcome.ok ? outcome.cost : 0n,
          error: outcome.ok ? undefined : toWire(outcome.error),
          totalMs: outcome.totalMs,
          });
        } catch (err) {
          log.warn({ err, taskId }, 'could not publish the task-finished event');
        }
      },
    }),
    { maxRequestBytes: config.maxRequestBytes },
  );
  svc.serveHealth(RouterHealth, () => ({ tasksFinished: String(finished) }));
  log.info('router-svc ready');
  return {
    async stop() {
      stopping.abort(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'router-svc is stopping; the task was ended early and refunded', true));
      await svc.stop(config.graceMs);
    },
  };
}
