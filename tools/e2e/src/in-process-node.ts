/**
 * A whole node inside the test process: real nats-server, real LevelDB, every service started
 * through its start function (never main.ts), started and stopped in the launcher's order
 * (NODE_SERVICES).
 *
 * `closedBus: true` runs it as `swarm up` does: NKey identities in the data dir, nats-server with
 * the role permissions, each service on its own connection as its role; `connectAs(role)` and
 * `connectAnonymous()` give tests their own connections (an attacker's, a client's, an observer's).
 */
import { loadApiConfig, startApiService } from '@swarm/api-svc';
import { loadCreditConfig, startCreditService } from '@swarm/credit-svc';
import { loadServiceConfig } from '@swarm/config';
import { seededRandom, systemTime } from '@swarm/determinism';
import { loadExecutorConfig, startExecutorService } from '@swarm/executor-svc';
import { loadGatewayConfig, startGatewayService } from '@swarm/gateway-svc';
import { loadOrCreateIdentity } from '@swarm/identity';
import type { NodeServiceApp } from '@swarm/node';
import { NODE_SERVICES } from '@swarm/node';
import { startRegistryService } from '@swarm/registry-svc';
import { loadRouterConfig, startRouterService } from '@swarm/router-svc';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, tempDir } from '@swarm/testing';
import { busConnectOptions } from '@swarm/bus';
import type { BusRole } from '@swarm/contracts';
import { prepareClosedBus } from '@swarm/runtime';
import type { ConnectionOptions, NatsConnection } from 'nats';
import { connect } from 'nats';

export interface InProcessNode {
  readonly natsUrl: string;
  readonly nodeId: string;
  readonly nc: NatsConnection;
  readonly dataDir: string;
  /** host:port of api-svc's HTTP API (agents). */
  readonly httpAddress: string;
  /** A new connection as `role` (closed bus) or a plain one (open bus); closed by stop(). */
  connectAs(role: BusRole): Promise<NatsConnection>;
  /** A new connection without any key; on a closed bus this rejects (AUTHORIZATION_VIOLATION). */
  connectAnonymous(opts?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  stopExecutor(): Promise<void>;
  stop(): Promise<void>;
}

export interface InProcessNodeOptions {
  closedBus?: boolean;
}

export async function startInProcessNode(extraEnv: Record<string, string> = {}, opts: InProcessNodeOptions = {}): Promise<InProcessNode> {
  const dir: TempDir = await tempDir('swarm-node-');
  const bus = opts.closedBus ? await prepareClosedBus(dir.path) : undefined;
  const server: NatsServerHandle = await startNatsServer(bus ? { authorization: bus.authorization } : {});
  const connections: NatsConnection[] = [];
  const connectAs = async (role: BusRole) => {
    const c = await connect({ servers: server.url, ...(await busConnectOptions(role, bus?.seedFile(role))) });
    connections.push(c);
    return c;
  };
  const env = { SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_GRACE_MS: '2000', SWARM_EXECUTOR_THREADS: '2', ...extraEnv };
  const { nodeId } = await loadOrCreateIdentity(dir.path);
  const log = silentLogger();
  // Open bus: one shared connection (as before). Closed bus: `nc` is the client identity's.
  const nc = await (bus ? connectAs('client') : connect({ servers: server.url }));
  const ncOf = async (role: BusRole) => (bus ? connectAs(role) : nc);
  // Each service by its start function, in the launcher's order (NODE_SERVICES, @swarm/node).
  let httpAddress = '';
  const starters: Record<NodeServiceApp, () => Promise<{ stop(): Promise<void> }>> = {
    'credit-svc': async () => startCreditService({ config: loadCreditConfig(env), log, nc: await ncOf('credit'), nodeId, ...systemTime }),
    'registry-svc': async () => startRegistryService({ config: loadServiceConfig(env), log, nc: await ncOf('registry'), nodeId }),
    'gateway-svc': async () => startGatewayService({ config: loadGatewayConfig(env), log, nc: await ncOf('gateway'), time: systemTime }),
    'executor-svc': async () => startExecutorService({ config: loadExecutorConfig(env), log, nc: await ncOf('executor'), nodeId }),
    'router-svc': async () => startRouterService({ config: loadRouterConfig(env), log, nc: await ncOf('router'), nodeId, ...systemTime, random: seededRandom(9) }),
    'api-svc': async () => {
      const api = await startApiService({ config: loadApiConfig(env), log, nc: await ncOf('api'), nodeId });
      httpAddress = api.httpAddress;
      return api;
    },
  };
  const running = new Map<NodeServiceApp, { stop(): Promise<void> }>();
  for (const { app } of NODE_SERVICES) running.set(app, await starters[app]());
  const stopService = async (app: NodeServiceApp) => {
    await running.get(app)?.stop();
    running.delete(app);
  };
  const stopExecutor = () => stopService('executor-svc');
  return {
    natsUrl: server.url,
    nodeId,
    nc,
    dataDir: dir.path,
    httpAddress,
    connectAs,
    async connectAnonymous(extra = {}) {
      const c = await connect({ servers: server.url, ...extra });
      connections.push(c);
      return c;
    },
    stopExecutor,
    async stop() {
      for (const { app } of [...NODE_SERVICES].reverse()) await stopService(app);
      await nc.drain();
      await Promise.all(connections.filter((c) => !c.isClosed()).map((c) => c.close()));
      await server.stop();
      await dir.remove();
    },
  };
}
