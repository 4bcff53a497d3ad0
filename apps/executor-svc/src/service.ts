import { EMPTY_REQUEST_MAX_BYTES, startBusService } from '@swarm/bus';
import { EXECUTOR_QUEUE, ExecutorExecute, ExecutorHealth, ExecutorSkills } from '@swarm/contracts';
import { createKernelPool } from '@swarm/kernels';
import type { Logger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import type { ExecutorConfig } from './config';
import { executeHandler, healthDetails, skillsHandler } from './handlers';

export const EXECUTOR_VERSION = '0.1.0';

export interface ExecutorServiceDeps {
  config: ExecutorConfig;
  log: Logger;
  nc: NatsConnection;
  nodeId: string;
  /** Default: exec-<node id prefix>-<pid>, unique per executor process of a node. */
  executorId?: string;
}

export interface ExecutorService {
  readonly executorId: string;
  stop(): Promise<void>;
}

export function executorIdOf(nodeId: string, pid: number): string {
  return `exec-${nodeId.slice(0, 8)}-${pid}`;
}

export async function startExecutorService(deps: ExecutorServiceDeps): Promise<ExecutorService> {
  const { config, nc, nodeId } = deps;
  const executorId = deps.executorId ?? executorIdOf(nodeId, process.pid);
  const log = deps.log.child({ executorId });
  const pool = await createKernelPool({ threads: config.threads, maxQueue: config.maxQueue, backend: config.backend, inlineMaxWork: config.inlineMaxWork, log });
  let svc;
  try {
    svc = await startBusService({ nc, log, name: 'executor-svc', version: EXECUTOR_VERSION, description: 'Runs installed skills as gpu.js kernels', nodeId });
  } catch (err) {
    await pool.stop();
    throw err;
  }
  // Every endpoint joins one queue group, so N replicas of this service share the requests.
  const queue = EXECUTOR_QUEUE;
  svc.serve(
    ExecutorExecute,
    executeHandler({ pool, limits: config, skills: config.skills, executorId, providerId: nodeId }),
    // Acknowledged on arrival: a router that hears nothing within its ack timeout knows no live
    // replica took the task and tries again at once, instead of waiting out the attempt.
    { queue, maxRequestBytes: config.maxRequestBytes, ack: true },
  );
  svc.serve(ExecutorSkills, skillsHandler(pool, config.skills), { queue, maxRequestBytes: EMPTY_REQUEST_MAX_BYTES });
  svc.serveHealth(ExecutorHealth, healthDetails(pool, executorId, config.skills), { queue });
  log.info({ backend: pool.backend, threads: config.threads, maxQueue: config.maxQueue, skills: config.skills }, 'executor-svc ready');
  return {
    executorId,
    async stop() {
      // Intake first (the bus waits for in-flight requests within the grace period), then the workers.
      await svc.stop(config.graceMs);
      await pool.stop();
    },
  };
}
