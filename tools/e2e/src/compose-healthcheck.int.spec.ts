import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { busConnectOptions, SWARM_ERROR_HEADER } from '@swarm/bus';
import type { BusRole, ServiceName } from '@swarm/contracts';
import { BUS_PERMISSIONS, CreditBalance, HEALTH_BY_SERVICE, LedgerEntryEvents } from '@swarm/contracts';
import { systemTime } from '@swarm/determinism';
import { loadGatewayConfig, startGatewayService } from '@swarm/gateway-svc';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, tempDir } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';

const ROOT = resolve(__dirname, '../../..');
const PROBE = resolve(ROOT, 'tools/compose/healthcheck.js');

/** The probe is plain JavaScript (Docker runs it every interval); it restates two names. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain JavaScript script, loaded by path
const probe = require(PROBE) as { healthSubject(app: string): string; SWARM_ERROR_HEADER: string; PROBE_TIMEOUT_MS: number; PROBE_ROLE: BusRole };

function runProbe(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [PROBE], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 15_000 }, (err, _stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr });
    });
  });
}

describe('compose healthcheck - the probe docker-compose.yml runs in each service container', () => {
  let nats: NatsServerHandle;
  let work: TempDir;
  /** gateway-svc's key volume, its data dir in compose: its own key and the probe key. */
  let gatewayData: string;
  let nc: NatsConnection;
  let gateway: { stop(): Promise<void> };

  beforeAll(async () => {
    // A closed bus laid out as docker-compose.yml's bus-init writes it.
    work = await tempDir('swarm-healthcheck-');
    const confDir = join(work.path, 'bus-conf');
    mkdirSync(confDir);
    execFileSync(process.execPath, ['bin/run-ts.js', 'tools/compose/init-bus.ts', join(work.path, 'node'), confDir, join(work.path, 'keys')], { cwd: ROOT, stdio: 'pipe' });
    gatewayData = join(work.path, 'keys', 'gateway');
    nats = await startNatsServer({ authorization: readFileSync(join(confDir, 'auth.conf'), 'utf8') });
    nc = await connect({ servers: nats.url, ...(await busConnectOptions('gateway', join(gatewayData, 'bus', 'gateway.nk'))) });
    gateway = await startGatewayService({ config: loadGatewayConfig({ SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: gatewayData }), log: silentLogger(), nc, time: systemTime });
  });

  afterAll(async () => {
    await gateway?.stop();
    await nc?.drain();
    await Promise.all([nats?.stop(), work?.remove()]);
  });

  it('uses the subjects and error header of libs/contracts and libs/bus', () => {
    for (const [service, rpc] of Object.entries(HEALTH_BY_SERVICE) as Array<[ServiceName, { subject: string }]>) {
      expect(probe.healthSubject(`${service}-svc`)).toBe(rpc.subject);
    }
    expect(probe.SWARM_ERROR_HEADER).toBe(SWARM_ERROR_HEADER);
    // It asks as the probe role, which may ask every service's health and publish nothing else.
    expect(probe.PROBE_ROLE).toBe('probe');
    expect([...BUS_PERMISSIONS[probe.PROBE_ROLE].publish].sort()).toEqual(
      Object.values(HEALTH_BY_SERVICE)
        .map((rpc) => rpc.subject)
        .sort(),
    );
  });

  it('is healthy when the service answers on the bus, asked with the key in its own key volume', async () => {
    expect(await runProbe({ SWARM_APP: 'gateway-svc', SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: gatewayData })).toEqual({ code: 0, stderr: '' });
  });

  it('holds a probe key that nats-server lets ask health and nothing else: no balance, no ledger events', async () => {
    const probeNc = await connect({ servers: nats.url, ...(await busConnectOptions('probe', join(gatewayData, 'bus', 'probe.nk'))) });
    try {
      await expect(probeNc.request(HEALTH_BY_SERVICE.gateway.subject, new Uint8Array(), { timeout: 2_000 })).resolves.toBeDefined();
      await expect(probeNc.request(CreditBalance.subject, new Uint8Array(), { timeout: 2_000 })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      let refused = false;
      const events = probeNc.subscribe(LedgerEntryEvents.subject, { callback: (err) => (refused ||= err !== null) });
      // A round trip after the SUB: the server has processed it (and sent -ERR) by the time PONG comes.
      await probeNc.flush();
      await probeNc.flush();
      expect({ refused, closed: events.isClosed() }).toEqual({ refused: true, closed: true });
    } finally {
      await probeNc.close();
    }
  });

  it('is unhealthy without a key of the node (the bus is closed)', async () => {
    const elsewhere = await tempDir('swarm-healthcheck-nokey-');
    try {
      const r = await runProbe({ SWARM_APP: 'gateway-svc', SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: elsewhere.path });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^unhealthy: .*Authorization/i);
    } finally {
      await elsewhere.remove();
    }
  });

  it('is unhealthy, within its timeout, when the service does not answer or the bus is down', async () => {
    const absent = await runProbe({ SWARM_APP: 'router-svc', SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: gatewayData });
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/^unhealthy: /);
    expect((await runProbe({ SWARM_APP: 'gateway-svc', SWARM_NATS_URL: 'nats://127.0.0.1:1', SWARM_DATA_DIR: gatewayData })).code).toBe(1);
    expect((await runProbe({ SWARM_APP: 'nats', SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: gatewayData })).stderr).toMatch(/SWARM_APP must name a service/);
  });
});
