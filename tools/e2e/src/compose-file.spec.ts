import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '../../..');

describe('docker-compose.yml - validity', () => {
  const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string> }>;
  };

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
    for (const app of ['credit-svc', 'registry-svc', 'gateway-svc', 'executor-svc', 'router-svc']) {
      expect(compose.services[app]?.environment).toMatchObject({ SWARM_APP: app, SWARM_NATS_URL: 'nats://nats:4222', SWARM_DATA_DIR: '/data' });
    }
    expect(compose.services['nats']).toBeDefined();
  });
});
