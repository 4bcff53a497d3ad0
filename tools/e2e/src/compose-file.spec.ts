import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '../../..');
const APPS = ['credit-svc', 'registry-svc', 'gateway-svc', 'executor-svc', 'router-svc', 'api-svc'];

interface ComposeService {
  environment?: Record<string, string>;
  restart?: string;
  ports?: string[];
  volumes?: Array<string | object>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[]; interval?: string; retries?: number; start_period?: string };
}

describe('docker-compose.yml - validity', () => {
  const text = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
  const compose = parse(text, { merge: true }) as { name?: string; services: Record<string, ComposeService> };

  it('validates against the Compose Specification schema', () => {
    // Schema from compose-spec/compose-spec (Apache-2.0), copied from shared/schemas on 2026-11-25.
    const schema = JSON.parse(readFileSync(resolve(ROOT, 'tools/compose/compose-spec.json'), 'utf8')) as object;
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('runs every service of a node, each with its app and the shared bus', () => {
    for (const app of APPS) {
      expect(compose.services[app]?.environment).toMatchObject({ SWARM_APP: app, SWARM_NATS_URL: 'nats://nats:4222', SWARM_DATA_DIR: '/data' });
    }
    expect(compose.services['nats']).toBeDefined();
  });

  it('has no top-level name, which docker-compose v1 rejects', () => {
    expect(compose.name).toBeUndefined();
    expect(text).not.toMatch(/^name:/m);
  });
});

describe('docker-compose.yml - as an operator runs it', () => {
  const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  const nats = compose.services['nats'];

  it('checks the bus health, and starts every service only once the bus is healthy', () => {
    expect(nats.healthcheck?.test).toEqual(['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8222/healthz']);
    // The monitoring port the check reads is in the mounted config, on loopback only.
    expect(readFileSync(resolve(ROOT, 'tools/compose/nats.conf'), 'utf8')).toMatch(/^http: 127\.0\.0\.1:8222$/m);
    expect(nats.volumes).toContain('./tools/compose/nats.conf:/etc/nats/nats.conf:ro');
    for (const app of APPS) {
      expect({ app, dependsOn: compose.services[app]?.depends_on }).toEqual({ app, dependsOn: { nats: { condition: 'service_healthy' } } });
    }
  });

  it('checks each service by its health subject on the bus', () => {
    for (const app of APPS) {
      expect(compose.services[app]?.healthcheck).toMatchObject({ test: ['CMD', 'node', 'tools/compose/healthcheck.js'], start_period: expect.any(String) });
    }
  });

  it('does not restart a service forever, so a configuration error (exit 78) ends', () => {
    // on-failure with a bound: Docker cannot exempt exit 78 itself (see the comment in the file).
    for (const app of APPS) expect({ app, restart: compose.services[app]?.restart }).toEqual({ app, restart: expect.stringMatching(/^on-failure:\d+$/) });
  });

  it('publishes every port on loopback only: the bus, the Jaeger UI and its OTLP/HTTP receiver', () => {
    const published = Object.values(compose.services).flatMap((svc) => svc.ports ?? []);
    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    expect(compose.services['jaeger']?.ports).toEqual(expect.arrayContaining(['127.0.0.1:16686:16686', '127.0.0.1:4318:4318']));
  });

  it('sets executor threads per replica instead of the CPU count in every replica', () => {
    expect(compose.services['executor-svc']?.environment?.['SWARM_EXECUTOR_THREADS']).toBe('${SWARM_EXECUTOR_THREADS:-1}');
  });

  it('closes the bus as `swarm up` does: bus-init makes the keys, nats includes the permissions, each service has its own key', () => {
    const init = compose.services['bus-init'] as ComposeService & { command?: string[] };
    expect(init.command).toEqual(['node', 'bin/run-ts.js', 'tools/compose/init-bus.ts', '/node', '/bus-conf', '/keys']);
    expect(init.restart).toBe('no');
    expect(nats.depends_on).toEqual({ 'bus-init': { condition: 'service_completed_successfully' } });
    expect(nats.volumes).toContain('bus-conf:/etc/nats/auth:ro');
    expect(readFileSync(resolve(ROOT, 'tools/compose/nats.conf'), 'utf8')).toMatch(/^include \.\/auth\/auth\.conf$/m);
    for (const app of APPS) {
      const role = app.replace(/-svc$/, '');
      expect({ app, key: compose.services[app]?.environment?.['SWARM_NATS_NKEY_FILE'] }).toEqual({ app, key: `/data/bus/${role}.nk` });
    }
  });
});
