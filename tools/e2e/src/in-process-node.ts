/**
 * A whole node inside the test process: real nats-server, real LevelDB, every service started
 * through its start function (never main.ts), stopped in the launcher's order.
 */
import { loadCreditConfig, startCreditService } from '@swarm/credit-svc';
import { loadServiceConfig } from '@swarm/config';
import { systemClock, seededRandom } from '@swarm/determinism';
import { loadExecutorConfig, startExecutorService } from '@swarm/executor-svc';
import { startGatewayService } from '@swarm/gateway-svc';
import { loadOrCreateIdentity } from '@swarm/identity';
import { startRegistryService } from '@swarm/registry-svc';
import { loadRouterConfig, startRouterService } from '@swarm/router-svc';
import { silentLogger } from '@swarm/telemetry';
import { NatsServerHandle, startNatsServer, tempDir, TempDir } from '@swarm/testing';
import { connect, NatsConnection } from 'nats';

export interface InProcessNode {
  readonly natsUrl: string;
  readonly nodeId: string;
  readonly nc: NatsConnection;
  readonly dataDir: string;
  stopExecutor(): Promise<void>;
  stop(): Promise<void>;
}

export async function startInProcessNode(extraEnv: Record<string, string> = {}): Promise<InProcessNode> {
  const server: NatsServerHandle = await startNatsServer();
  const dir: TempDir = await tempDir('swarm-node-');
  const env = { SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_GRACE_MS: '2000', SWARM_EXECUTOR_THREADS: '2', ...extraEnv };
  const { nodeId } = await loadOrCreateIdentity(dir.path);
  const log = silentLogger();
  const nc = await connect({ servers: server.url });
  const credit = await startCreditService({ config: loadCreditConfig(env), log, nc, nodeId, clock: systemClock });
  const registry = await startRegistryService({ config: loadServiceConfig(env), log, nc, nodeId });
  const gateway = await startGatewayService({ config: loadServiceConfig(env), log, nc, nodeId });
  let executor: { stop(): Promise<void> } | undefined = await startExecutorService({ config: loadExecutorConfig(env), log, nc, nodeId });
  const router = await startRouterService({ config: loadRouterConfig(env), log, nc, nodeId, clock: systemClock, random: seededRandom(9) });
  const stopExecutor = async () => {
    await executor?.stop();
    executor = undefined;
  };
  return {
    natsUrl: server.url,
    nodeId,
    nc,
    dataDir: dir.path,
    stopExecutor,
    async stop() {
      await router.stop();
      await stopExecutor();
      await gateway.stop();
      await registry.stop();
      await credit.stop();
      await nc.drain();
      await server.stop();
      await dir.remove();
    },
  };
}
