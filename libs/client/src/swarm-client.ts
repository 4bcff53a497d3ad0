/**
 * A small client for a running node (the CLI is a thin layer on it): an agent or program can
 * submit tasks and read balances and skills without a shell. One NATS connection per client.
 */
import { createBusClient } from '@swarm/bus';
import {
  BalanceResponse,
  CreditBalance,
  ExecutorSkills,
  HEALTH_BY_SERVICE,
  HealthResponse,
  ListSkillsResponse,
  RouterSubmit,
  ServiceName,
  SubmitTaskRequest,
  SubmitTaskResponse,
} from '@swarm/contracts';
import { Logger, silentLogger } from '@swarm/telemetry';
import { connect, NatsConnection } from 'nats';

export const CONNECT_TIMEOUT_MS = 3_000;
/** Router time limits the task; the request waits a little longer so its error can arrive. */
const SUBMIT_REPLY_SLACK_MS = 2_000;
export const DEFAULT_SUBMIT_TIMEOUT_MS = 30_000;

export class NodeUnreachableError extends Error {
  readonly code = 'SWARM_NO_NODE';
}

export interface SwarmClient {
  readonly natsUrl: string;
  submit(req: Partial<SubmitTaskRequest> & Pick<SubmitTaskRequest, 'skill' | 'inputs' | 'budget'>): Promise<SubmitTaskResponse>;
  balance(account?: string): Promise<BalanceResponse>;
  skills(): Promise<ListSkillsResponse>;
  health(service: ServiceName, timeoutMs?: number): Promise<HealthResponse>;
  close(): Promise<void>;
}

export async function connectSwarm(natsUrl: string, opts: { log?: Logger; name?: string } = {}): Promise<SwarmClient> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: natsUrl, name: opts.name ?? 'swarm-client', timeout: CONNECT_TIMEOUT_MS, maxReconnectAttempts: 2 });
  } catch (err) {
    throw new NodeUnreachableError(`cannot reach a node's NATS at ${natsUrl} (${(err as Error).message}); start one with \`swarm up\``, { cause: err });
  }
  const bus = createBusClient(nc, opts.log ?? silentLogger());
  return {
    natsUrl,
    submit(req) {
      const full = SubmitTaskRequest.fromPartial(req);
      const timeoutMs = (full.timeoutMs || DEFAULT_SUBMIT_TIMEOUT_MS) + SUBMIT_REPLY_SLACK_MS;
      return bus.request(RouterSubmit, full, { timeoutMs });
    },
    balance: (account = '') => bus.request(CreditBalance, { account }),
    skills: () => bus.request(ExecutorSkills, {}),
    health: (service, timeoutMs) => bus.request(HEALTH_BY_SERVICE[service], {}, timeoutMs ? { timeoutMs } : {}),
    close: () => nc.drain(),
  };
}
