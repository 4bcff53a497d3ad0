/**
 * A whole node inside the test process: real nats-server, real LevelDB, every service started
 * through its start function (never main.ts), stopped in the launcher's order.
 *
 * `closedBus: true` runs it as `swarm up` does: NKey identities in the data dir, nats-server with
 * the role permissions, each service on its own connection as its role; `connectAs(role)` and
 * `connectAnonymous()` give tests their own connections (an attacker's, a client's, an observer's).
 */
import { loadCreditConfig, startCreditService } from '@swarm/credit-svc';
import { loadServiceConfig } from '@swarm/config';
import { monotonicClock, seededRandom, systemClock } from '@swarm/determinism';
import { loadExecutorConfig, startExecutorService } from '@swarm/executor-svc';
import { startGatewayService } from '@swarm/gateway-svc';
import { loadOrCreateIdentity } from '@swarm/identity';
import { startRegistryService } from '@swarm/registry-svc';
import { loadRouterConfig, startRouterService } from '@swarm/router-svc';
import { silentLogger } from '@swarm/telemetry';
import { NatsServerHandle, startNatsServer, tempDir, TempDir } from '@swarm/testing';
import { busConnectOptions } from '@swarm/bus';
import { BusRole } from '@swarm/contracts';
import { prepareClosedBus } from '@swarm/runtime';
import { connect, ConnectionOptions, NatsConnection } from 'nats';

export interface InProcessNode {
  readonly natsUrl: string;
  readonly nodeId: string;
  readonly nc: NatsConnection;
  readonly dataDir: string;
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
  const credit = await startCreditService({ config: loadCreditConfig(env), log, nc: await ncOf('credit'), nodeId, clock: systemClock });
  const registry = await startRegistryService({ config: loadServiceConfig(env), log, nc: await ncOf('registry'), nodeId });
  const gateway = await startGatewayService({ config: loadServiceConfig(env), log, nc: await ncOf('gateway'), nodeId });
  let executor: { stop(): Promise<void> } | undefined = await startExecutorService({ config: loadExecutorConfig(env), log, nc: await ncOf('executor'), nodeId });
  const router = await startRouterService({ config: loadRouterConfig(env), log, nc: await ncOf('router'), nodeId, clock: systemClock, stopwatch: monotonicClock, random: seededRandom(9) });
  const stopExecutor = async () => {
    await executor?.stop();
    executor = undefined;
  };
  return {
    natsUrl: server.url,
    nodeId,
    nc,
    dataDir: dir.path,
    connectAs,
    async connectAnonymous(extra = {}) {
      const c = await connect({ servers: server.url, ...extra });
      connections.push(c);
      return c;
    },
    stopExecutor,
    async stop() {
      await router.stop();
      await stopExecutor();
      await gateway.stop();
      await registry.stop();
      await credit.stop();
      await nc.drain();
      await Promise.all(connections.filter((c) => !c.isClosed()).map((c) => c.close()));
      await server.stop();
      await dir.remove();
    },
  };
}
