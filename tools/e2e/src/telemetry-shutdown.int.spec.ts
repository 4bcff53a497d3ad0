import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBusClient } from '@swarm/bus';
import { RouterHealth } from '@swarm/contracts';
import { SHUTDOWN_SLACK_MS } from '@swarm/runtime';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, ServiceProcess, TempDir } from '@swarm/testing';
import { spawnService, startNatsServer, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';

/** The TypeScript loader and OpenTelemetry SDK start on a shared 2-core box. */
const START_TIMEOUT_MS = 25_000;
const GRACE_MS = 1_000;

/** An OTLP/HTTP collector that accepts requests and never answers them (a hung Jaeger). */
function startHungCollector(): Promise<{ server: Server; url: string; requests(): number }> {
  let requests = 0;
  const server = createServer(() => {
    requests += 1;
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests })),
  );
}

describe('router-svc - stop with OTEL_EXPORTER_OTLP_ENDPOINT set and no working collector', () => {
  let nats: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let router: ServiceProcess | undefined;

  beforeAll(async () => {
    [nats, dir] = await Promise.all([startNatsServer(), tempDir('swarm-otel-stop-')]);
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await router?.kill('SIGKILL');
    await nc.drain();
    await Promise.all([nats.stop(), dir.remove()]);
  });

  it('exits 0 within its grace period, dropping the spans it cannot export', async () => {
    const collector = await startHungCollector();
    try {
      router = spawnService('router-svc', {
        SWARM_NATS_URL: nats.url,
        SWARM_DATA_DIR: dir.path,
        SWARM_GRACE_MS: String(GRACE_MS),
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        SWARM_TRACE_SAMPLE_RATIO: '1',
      });
      const bus = createBusClient(nc, silentLogger());
      // Each answered health request leaves a server span in the router's export queue.
      await waitFor(() => bus.request(RouterHealth, {}, { timeoutMs: 500 }), { timeoutMs: START_TIMEOUT_MS, intervalMs: 200, what: 'router-svc answers health' });

      const started = performance.now();
      const exit = await router.kill('SIGTERM');
      const stopMs = performance.now() - started;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(stopMs).toBeLessThan(GRACE_MS + SHUTDOWN_SLACK_MS);
      expect(collector.requests()).toBeGreaterThan(0);
      expect(router.output()).toMatch(/telemetry shutdown timed out/);
    } finally {
      collector.server.closeAllConnections();
      collector.server.close();
    }
  }, 40_000);
});
