/**
 * `--json` is a contract with scripts and agents: every command's real output must match its JSON
 * Schema in docs/cli-json.schema.json, which is strict (every field required, no field it does not
 * name). A node on a closed bus (keys in its home, as `swarm up` makes them) answers the commands;
 * `swarm health`'s supervisor record needs `swarm up` itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SwarmNodeProcess, TempDir } from '@swarm/testing';
import { spawnSwarmNode, tempDir, waitFor } from '@swarm/testing';
import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv/dist/2020';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';
import { runCli } from './run-cli';

const SCHEMA = JSON.parse(readFileSync(join(__dirname, '../../../docs/cli-json.schema.json'), 'utf8')) as { $id: string };

type Command = 'submit' | 'balance' | 'skills' | 'health' | 'task' | 'ledger-audit';

const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addSchema(SCHEMA);

function schemaOf(command: Command): ValidateFunction {
  const validate = ajv.getSchema(`${SCHEMA.$id}#/$defs/${command}`);
  if (!validate) throw new Error(`docs/cli-json.schema.json has no $defs/${command}`);
  return validate;
}

/** Runs `swarm <args> --json`; answers the parsed document once it fits `command`'s schema. */
async function jsonOf(command: Command, args: string[], exitStatus = 0): Promise<Record<string, unknown>> {
  const r = await runCli([...args, '--json']);
  // stderr may carry progress (a rebuild note); an error line belongs to failures only.
  expect({ code: r.code, errorLine: r.code === 0 ? /^error .*/m.exec(r.stderr)?.[0] : undefined }).toEqual({ code: exitStatus, errorLine: undefined });
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  const validate = schemaOf(command);
  expect({ command, valid: validate(doc), errors: validate.errors ?? null }).toEqual({ command, valid: true, errors: null });
  return doc;
}

describe('swarm --json - the documented JSON Schema', () => {
  let node: InProcessNode;
  let at: string[];

  beforeAll(async () => {
    node = await startInProcessNode({}, { closedBus: true });
    at = ['--nats', node.natsUrl, '--data-dir', node.dataDir];
  }, 60_000);

  afterAll(async () => {
    await node?.stop();
  });

  it('submit: SubmitTaskResponse, tensors as base64 float32', async () => {
    const doc = await jsonOf('submit', ['submit', '--skill', 'vecadd', '--size', '3', '--seed', '1', '--key', 'json-ok', ...at]);
    const [c] = doc['outputs'] as Array<{ name: string; shape: number[]; data: string }>;
    const bytes = Buffer.from(c?.data ?? '', 'base64');
    expect({ name: c?.name, shape: c?.shape, values: bytes.length / 4 }).toEqual({ name: 'c', shape: [3], values: 3 });
    expect(doc).toMatchObject({ settlement: 'TASK_STATE_PAID', attempts: 1, refunded: expect.stringMatching(/^\d+$/) });
  });

  it('balance, skills and ledger --audit: their proto messages, uint64 as strings', async () => {
    expect(await jsonOf('balance', ['balance', ...at])).toMatchObject({ account: node.nodeId, available: '1000', escrowed: '0' });
    const skills = await jsonOf('skills', ['skills', ...at]);
    expect((skills['skills'] as Array<{ name: string }>).map((s) => s.name).sort()).toEqual(['matmul', 'mlp', 'vecadd']);
    expect(await jsonOf('ledger-audit', ['ledger', '--audit', ...at])).toMatchObject({ ok: true, problems: [], genesis: '1000' });
  });

  it('task: TaskStatusResponse with the state by its enum name, and a rejected task with its error', async () => {
    expect(await jsonOf('task', ['task', '--key', 'json-ok', ...at])).toMatchObject({ state: 'TASK_STATE_PAID', source: 'router' });
    // Over budget: refused before anything is reserved; the error document, then the task's record.
    const refused = await jsonOf('submit', ['submit', '--skill', 'matmul', '--size', '256', '--budget', '1', '--key', 'json-refused', ...at], 1);
    expect(refused).toEqual({ error: { code: 'SWARM_BUDGET_TOO_LOW', message: expect.any(String), exitStatus: 1 } });
    const rejected = await jsonOf('task', ['task', '--key', 'json-refused', ...at]);
    expect(rejected).toMatchObject({ state: 'TASK_STATE_REJECTED', error: { code: 'ERROR_CODE_BUDGET_TOO_LOW', retryable: false } });
  });

  it('health: every service with its HealthResponse', async () => {
    const doc = await jsonOf('health', ['health', ...at]);
    const services = doc['services'] as Array<{ service: string; status: string; instances?: number; health?: { service: string; uptimeMs: string } }>;
    expect(services.map((s) => [s.service, s.status, s.instances, s.health?.service])).toEqual(
      ['router', 'credit', 'executor', 'registry', 'gateway', 'api'].map((s) => [s, 'ok', 1, `${s}-svc`]),
    );
  });

  it('errors: the one error document, for usage errors too', async () => {
    expect(await jsonOf('balance', ['balance', '--nats', 'nats://127.0.0.1:1'], 1)).toMatchObject({ error: { code: 'SWARM_NO_NODE' } });
    expect(await jsonOf('submit', ['submit', '--skill', 'vecadd', '--size', 'abc'], 2)).toMatchObject({ error: { code: 'SWARM_BAD_ARGS' } });
  });
});

describe('swarm health --json - with the supervisor of `swarm up`', () => {
  let home: TempDir;
  let node: SwarmNodeProcess;

  beforeAll(async () => {
    home = await tempDir('swarm-cli-json-');
    node = await spawnSwarmNode(home.path);
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await home?.remove();
  });

  it("shows each process's record, after a restart too", async () => {
    const nodeFile = () => JSON.parse(readFileSync(join(home.path, 'node.json'), 'utf8')) as { supervision?: Record<string, { pid?: number }> };
    const gatewayPid = nodeFile().supervision?.['gateway-svc']?.pid;
    if (!gatewayPid) throw new Error('node.json names no gateway-svc pid');
    process.kill(gatewayPid, 'SIGKILL');
    const at = ['--data-dir', home.path];
    await waitFor(async () => (await runCli(['health', ...at])).code === 0 && nodeFile().supervision?.['gateway-svc']?.pid !== gatewayPid, {
      timeoutMs: 60_000,
      intervalMs: 300,
      what: 'gateway-svc restarted',
    });
    // The table fits a terminal: each service's details one per line.
    const table = await runCli(['health', ...at]);
    expect(table.stdout).toMatch(/│ chainPledged=\d+ +│/);
    expect(Math.max(...table.stdout.split('\n').map((line) => line.length))).toBeLessThanOrEqual(140);
    const doc = await jsonOf('health', ['health', ...at]);
    expect(doc['supervision']).toMatchObject({ 'gateway-svc': { state: 'running', restarts: 1, lastExit: { code: null, signal: 'SIGKILL' } } });
  }, 90_000);
});
