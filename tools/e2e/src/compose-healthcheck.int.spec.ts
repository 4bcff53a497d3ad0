import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolve } from 'node:path';
import { busConnectOptions, SWARM_ERROR_HEADER } from '@swarm/bus';
import { loadServiceConfig } from '@swarm/config';
import { BUS_PERMISSIONS, BusRole, HEALTH_BY_SERVICE, ServiceName } from '@swarm/contracts';
import { findNatsServer, prepareClosedBus } from '@swarm/runtime';
import { startGatewayService } from '@swarm/gateway-svc';
import { silentLogger } from '@swarm/telemetry';
import { NatsServerHandle, startNatsServer, tempDir, TempDir } from '@swarm/testing';
import { connect, NatsConnection } from 'nats';

const ROOT = resolve(__dirname, '../../..');
const PROBE = resolve(ROOT, 'tools/compose/healthcheck.js');

/** The probe is plain JavaScript (Docker runs it every interval); it restates two names. */
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
  let dir: TempDir;
  let nc: NatsConnection;
  let gateway: { stop(): Promise<void> };

  beforeAll(async () => {
    // A closed bus, as docker-compose.yml runs it (bus-init writes the keys into the data volume).
    dir = await tempDir('swarm-healthcheck-');
    const bus = await prepareClosedBus(dir.path);
    nats = await startNatsServer({ authorization: bus.authorization });
    nc = await connect({ servers: nats.url, ...(await busConnectOptions('gateway', bus.seedFile('gateway'))) });
    gateway = await startGatewayService({ config: loadServiceConfig({ SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: dir.path }), log: silentLogger(), nc, nodeId: 'node-hc' });
  });

  afterAll(async () => {
    await gateway.stop();
    await nc.drain();
    await Promise.all([nats.stop(), dir.remove()]);
  });

  it('uses the subjects and error header of libs/contracts and libs/bus', () => {
    for (const [service, rpc] of Object.entries(HEALTH_BY_SERVICE) as Array<[ServiceName, { subject: string }]>) {
      expect(probe.healthSubject(`${service}-svc`)).toBe(rpc.subject);
    }
    expect(probe.SWARM_ERROR_HEADER).toBe(SWARM_ERROR_HEADER);
    // It asks as the observer, which may ask every service's health.
    for (const rpc of Object.values(HEALTH_BY_SERVICE)) expect(BUS_PERMISSIONS[probe.PROBE_ROLE].publish).toContain(rpc.subject);
  });

  it('is healthy when the service answers on the bus', async () => {
    expect(await runProbe({ SWARM_APP: 'gateway-svc', SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: dir.path })).toEqual({ code: 0, stderr: '' });
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
    const absent = await runProbe({ SWARM_APP: 'router-svc', SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: dir.path });
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/^unhealthy: /);
    expect((await runProbe({ SWARM_APP: 'gateway-svc', SWARM_NATS_URL: 'nats://127.0.0.1:1', SWARM_DATA_DIR: dir.path })).code).toBe(1);
    expect((await runProbe({ SWARM_APP: 'nats', SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: dir.path })).stderr).toMatch(/SWARM_APP must name a service/);
  });

  it('bus-init writes private keys and an authorization block that makes the compose nats.conf valid', async () => {
    const work = await tempDir('swarm-bus-init-');
    try {
      const data = join(work.path, 'data');
      const conf = join(work.path, 'etc-nats');
      mkdirSync(join(conf, 'auth'), { recursive: true });
      mkdirSync(data);
      execFileSync(process.execPath, ['bin/run-ts.js', 'tools/compose/init-bus.ts', data, join(conf, 'auth')], { cwd: ROOT, stdio: 'pipe' });
      expect(readdirSync(join(data, 'bus')).sort()).toEqual(Object.keys(BUS_PERMISSIONS).map((r) => `${r}.nk`).sort());
      expect(statSync(join(data, 'bus', 'router.nk')).mode & 0o777).toBe(0o600);
      copyFileSync(join(ROOT, 'tools/compose/nats.conf'), join(conf, 'nats.conf'));
      // `-t` parses the whole configuration, include and users, without binding ports.
      const check = spawnSync(findNatsServer(), ['-c', join(conf, 'nats.conf'), '-t'], { encoding: 'utf8' });
      expect({ status: check.status, said: check.stderr.trim() }).toEqual({ status: 0, said: expect.stringMatching(/configuration file .* is valid$/) });
    } finally {
      await work.remove();
    }
  });
});
