/**
 * api-svc: agents hire the node's compute. On the bus it answers the operator's agent commands
 * (agent-admin.ts); over HTTP it serves agents with a bearer token each (http-server.ts,
 * http-routes.ts), submitting their tasks on `router.submit-agent`, paid from their own accounts.
 * Its storage is the agents file (agent-store.ts). Health carries the HTTP address the launcher
 * shows (`swarm up`, node.json).
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { startBusService } from '@swarm/bus';
import type { ServiceConfig } from '@swarm/config';
import { parseHostPort } from '@swarm/config';
import { ApiAddAgent, ApiHealth, ApiListAgents, ApiRevokeAgent } from '@swarm/contracts';
import type { Time } from '@swarm/determinism';
import { systemTime } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { createAgentAdmin } from './agent-admin';
import { openAgentStore } from './agent-store';
import type { AgentTaskLimits } from './agent-tasks';
import { createAgentTasks } from './agent-tasks';
import type { ApiHttpConfig } from './config';
import { DEFAULT_BURST, DEFAULT_JSON_BODY_BYTES, DEFAULT_RATE_PER_SECOND, PROTOBUF_BODY_BYTES, DEFAULT_HTTP_LISTEN } from './config';
import { registerRoutes } from './http-routes';
import { loopbackUrl, registerMcpRoutes } from './mcp-http';
import { API_VERSION, createHttpServer, listen } from './http-server';
import { createEventStreams } from './task-events';
import { createResultReads, RESULT_READ_LIMITS } from './result-reads';
import type { AgentRateLimits } from './token-bucket';
import { createAgentRateLimiter } from './token-bucket';

/** Bytes of randomness in a generated idempotency key (96 bits: no two tasks collide). */
const KEY_RANDOM_BYTES = 12;
/** The MCP endpoint's inner-call secret (http-server.ts INNER_CALL_HEADER). */
const INNER_CALL_SECRET_BYTES = 32;

export interface ApiServiceDeps {
  /** An ApiConfig (loadApiConfig); without `http`, the defaults (loopback, any port). */
  config: ServiceConfig & { readonly http?: ApiHttpConfig };
  log: Logger;
  nc: NatsConnection;
  nodeId: string;
  /** Default systemTime. */
  time?: Time;
  /** Token and key randomness; default node:crypto. */
  randomBytes?: (n: number) => Uint8Array;
  taskLimits?: AgentTaskLimits;
  /** What reading held results back costs agents (result-reads.ts); default RESULT_READ_LIMITS. */
  resultReadLimits?: AgentRateLimits;
}

export interface ApiService {
  /** host:port the HTTP API listens on. */
  readonly httpAddress: string;
  stop(): Promise<void>;
}

export function httpSettingsOf(config: ApiServiceDeps['config']): ApiHttpConfig {
  return (
    config.http ?? {
      listen: parseHostPort(DEFAULT_HTTP_LISTEN) as ApiHttpConfig['listen'],
      jsonBodyBytes: DEFAULT_JSON_BODY_BYTES,
      protobufBodyBytes: PROTOBUF_BODY_BYTES,
      ratePerSecond: DEFAULT_RATE_PER_SECOND,
      burst: DEFAULT_BURST,
    }
  );
}

export async function startApiService(deps: ApiServiceDeps): Promise<ApiService> {
  const { config, log, nc, nodeId } = deps;
  const time = deps.time ?? systemTime;
  const randomBytes = deps.randomBytes ?? ((n: number) => new Uint8Array(cryptoRandomBytes(n)));
  const http = httpSettingsOf(config);
  const store = await openAgentStore(config.dataDir);
  const svc = await startBusService({ nc, log, name: 'api-svc', version: API_VERSION, description: "Agents' HTTP API and agent accounts", nodeId });

  const admin = createAgentAdmin({ store, bus: svc.client, clock: time.clock, randomBytes, log });
  svc.serve(ApiAddAgent, (req, ctx) => admin.add(req, ctx.trace));
  svc.serve(ApiListAgents, (_req, ctx) => admin.list(ctx.trace));
  svc.serve(ApiRevokeAgent, (req, ctx) => admin.revoke(req, ctx.trace));

  const tasks = createAgentTasks({
    bus: svc.client,
    stopwatch: time.stopwatch,
    log,
    newKey: () => `api.${Buffer.from(randomBytes(KEY_RANDOM_BYTES)).toString('hex')}`,
    revoked: (agent) => store.get(agent)?.revoked === true,
    ...(deps.taskLimits ? { limits: deps.taskLimits } : {}),
  });
  const streams = createEventStreams();
  const limiter = createAgentRateLimiter(http, time.stopwatch);
  const innerCallSecret = Buffer.from(randomBytes(INNER_CALL_SECRET_BYTES)).toString('hex');
  const app = await createHttpServer({ config: http, store, limiter, innerCallSecret, clock: time.clock, stopwatch: time.stopwatch, log });
  registerRoutes(app, {
    bus: svc.client,
    tasks,
    streams,
    resultReads: createResultReads(time.stopwatch, deps.resultReadLimits ?? RESULT_READ_LIMITS),
    clock: time.clock,
  });
  let httpAddress = '';
  registerMcpRoutes(app, { selfUrl: () => loopbackUrl(httpAddress), innerCallSecret, version: API_VERSION, limiter, limits: http, log });
  try {
    httpAddress = await listen(app, http);
  } catch (err) {
    await svc.stop(config.graceMs);
    throw err;
  }
  log.info({ http: httpAddress }, 'agent HTTP API listening');

  // Health last: the launcher reads the HTTP address from it once the service is ready.
  svc.serveHealth(ApiHealth, () => {
    const { held, running } = tasks.counts();
    return { http: httpAddress, agents: String(store.size()), tasksHeld: String(held), tasksRunning: String(running), eventStreams: String(streams.open()) };
  });

  return {
    httpAddress,
    async stop() {
      const deadline = time.stopwatch.now() + config.graceMs;
      const left = () => Math.max(0, deadline - time.stopwatch.now());
      // Intake first: no new connections; event streams end (their tasks run on).
      streams.closeAll();
      const closed = app.close();
      await tasks.drain(left());
      // Requests still open past the grace (a task still running) are cut; their tasks still end in the router.
      if (left() === 0) app.server.closeAllConnections();
      await closed;
      await svc.stop(left());
      await store.flush();
    },
  };
}
