/**
 * `swarm trust` over a real nats-server, with a stand-in for router-svc's RouterTrust: the table,
 * and a schema-valid JSON document.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BusService } from '@swarm/bus';
import { startBusService } from '@swarm/bus';
import type { NodeTrust } from '@swarm/contracts';
import { RouterTrust } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer } from '@swarm/testing';
import Ajv2020 from 'ajv/dist/2020';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { trustCommand } from './trust';

jest.setTimeout(30_000);

const SCHEMA = JSON.parse(readFileSync(join(__dirname, '../../../../docs/cli-json.schema.json'), 'utf8')) as { $id: string };
const validate = new Ajv2020({ strict: true, allErrors: true }).addSchema(SCHEMA).getSchema(`${SCHEMA.$id}#/$defs/trust`);
const TRUSTED = 'aa'.repeat(32);
const CONVICTED = 'bb'.repeat(32);

describe('swarm trust - against a stand-in for router-svc on a real bus', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let router: BusService;
  let nodes: NodeTrust[] = [];
  let out: string;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    router = await startBusService({ nc, log: silentLogger(), name: 'router-svc', version: '0.0.0', description: 'stand-in', nodeId: TRUSTED });
    router.serve(RouterTrust, () => ({ nodes }));
    await nc.flush();
  });
  afterAll(async () => {
    await router?.stop(1_000);
    await nc?.drain();
    await server?.stop();
  });
  beforeEach(() => {
    out = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const at = { nats: '', dataDir: '/nonexistent-swarm-home' };

  it('lists the nodes, most trusted first, the convicted ones marked; --json is one schema-valid document', async () => {
    nodes = [
      { nodeId: TRUSTED, trust: 0.271, verified: 3n, rejected: 0n, untrusted: false, unprovenFailures: 4n },
      { nodeId: CONVICTED, trust: 0, verified: 1n, rejected: 2n, untrusted: true, unprovenFailures: 0n },
    ];
    await trustCommand({ ...at, nats: server.url });
    expect(out).toMatch(/trust\s+│ verified\s+│ rejected\s+│ failed unproven\s+│ state/);
    expect(out).toMatch(new RegExp(`${TRUSTED}\\s+│ 0\\.271\\s+│ 3\\s+│ 0\\s+│ 4\\s+│ trusted`));
    expect(out).toMatch(new RegExp(`${CONVICTED}\\s+│ 0\\.000\\s+│ 1\\s+│ 2\\s+│ 0\\s+│ UNTRUSTED: a proof \\(a fork, or a broken void\\) convicts it`));

    out = '';
    await trustCommand({ ...at, nats: server.url, json: true });
    const doc = JSON.parse(out) as unknown;
    expect({ valid: validate?.(doc), errors: validate?.errors ?? null }).toEqual({ valid: true, errors: null });
    expect(doc).toEqual({
      nodes: [
        { nodeId: TRUSTED, trust: 0.271, verified: '3', rejected: '0', untrusted: false, unprovenFailures: '4' },
        { nodeId: CONVICTED, trust: 0, verified: '1', rejected: '2', untrusted: true, unprovenFailures: '0' },
      ],
    });
  });

  it('says so when the router trusts nobody yet', async () => {
    nodes = [];
    await trustCommand({ ...at, nats: server.url });
    expect(out).toContain('the router trusts no node yet');
    out = '';
    await trustCommand({ ...at, nats: server.url, json: true });
    expect(JSON.parse(out)).toEqual({ nodes: [] });
  });
});
