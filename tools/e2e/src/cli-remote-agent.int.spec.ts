/**
 * `swarm` as a remote agent: the compiled command, with only SWARM_AGENT_TOKEN and the node's
 * HTTP API address (no bus key, no node home), runs skills, submit, task, balance and peers
 * against one real node on a closed bus. Its `--json` documents fit docs/cli-json.schema.json,
 * the cost leaves the agent's account only, and refusals are the documented codes and exit statuses.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import { fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, getSkill } from '@swarm/skills';
import type { SilentServer, TempDir } from '@swarm/testing';
import { startSilentServer, tempDir } from '@swarm/testing';
import Ajv2020 from 'ajv/dist/2020';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';
import type { CliResult } from './run-cli';
import { runCli, runProcess, SWARM } from './run-cli';

jest.setTimeout(60_000);

const SCHEMA = JSON.parse(readFileSync(join(__dirname, '../../../docs/cli-json.schema.json'), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addSchema(SCHEMA);

type Command = 'submit' | 'balance' | 'skills' | 'task' | 'peers';

/** The parsed `--json` document, once it fits its command's schema. */
function documented(command: Command, r: CliResult, exitStatus = 0): Record<string, unknown> {
  expect({ code: r.code, errorLine: r.code === 0 ? /^error .*/m.exec(r.stderr)?.[0] : undefined }).toEqual({ code: exitStatus, errorLine: undefined });
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  const validate = ajv.getSchema(`${SCHEMA.$id}#/$defs/${command}`);
  expect({ command, valid: validate?.(doc), errors: validate?.errors ?? null }).toEqual({ command, valid: true, errors: null });
  return doc;
}

/** stderr without the note of bin/swarm.js rebuilding changed sources (`swarm: compiled …`). */
function stderrOf(r: CliResult): string {
  return r.stderr.replace(/^swarm: .*\n/gm, '');
}

/** A loopback port nothing listens on (just freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('swarm as a remote agent - the CLI over the HTTP API', () => {
  let node: InProcessNode;
  let operator: SwarmClient;
  let nowhere: TempDir;
  let api: string[];
  let agent: Record<string, string>;

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_GENESIS_GRANT: '1000' }, { closedBus: true });
    operator = await connectSwarm(node.natsUrl, { nkeyFile: join(node.dataDir, 'bus', 'observer.nk'), role: 'observer' });
    const { token } = await operator.addAgent({ name: 'remote', budget: 100n, ttlMs: 0n });
    // A home with no node and no keys: whatever works below went over HTTP.
    nowhere = await tempDir('swarm-remote-agent-');
    agent = { SWARM_AGENT_TOKEN: token, SWARM_HOME: nowhere.path, SWARM_NATS_NKEY_FILE: '' };
    api = ['--api-url', `http://${node.httpAddress}`];
  }, 60_000);

  afterAll(async () => {
    await operator?.close();
    await node?.stop();
    await nowhere?.remove();
  });

  it('lists the skills, as a table and as ListSkillsResponse', async () => {
    const table = await runCli(['skills', ...api], agent);
    expect([table.code, stderrOf(table)]).toEqual([0, '']);
    expect(table.stdout).toMatch(/matmul\s+│ a:\[n,k\] b:\[k,m\] → c:\[n,m\]/);
    expect(table.stdout).toMatch(/^gpu\.js backend: \w+$/m);
    const doc = documented('skills', await runCli(['skills', '--json', ...api], agent));
    expect((doc['skills'] as Array<{ name: string }>).map((s) => s.name).sort()).toEqual(['matmul', 'mlp', 'vecadd']);
  });

  it("runs a verified task paid from the agent's account only, then finds it by id", async () => {
    const nodeBefore = (await operator.balance()).available;
    const doc = documented('submit', await runCli(['submit', '--skill', 'vecadd', '--size', '3', '--seed', '5', '--key', 'remote-1', '--json', ...api], agent));
    const [a, b] = demoInputs(getSkill('vecadd'), 3, seededRandom(5)).map((t) => Array.from(fromTensor(t).data));
    const [c] = doc['outputs'] as Array<{ name: string; data: string }>;
    const values = Array.from(new Float32Array(new Uint8Array(Buffer.from(c?.data ?? '', 'base64')).buffer));
    expect(values).toEqual(a?.map((x, i) => Math.fround(x + (b?.[i] ?? 0))));
    expect(doc).toMatchObject({ account: 'agent/remote', settlement: 'TASK_STATE_PAID', contributions: [] });
    const cost = BigInt(doc['cost'] as string);
    expect(cost).toBeGreaterThan(0n);

    const balance = documented('balance', await runCli(['balance', '--json', ...api], agent));
    expect(balance).toEqual({ account: 'agent/remote', available: String(100n - cost), escrowed: '0', budget: '100', spent: String(cost), tasks: '1' });
    // This node ran it, so the node was paid: credit moved from the agent to the node, no further.
    expect((await operator.balance()).available).toBe(nodeBefore + cost);

    const taskId = doc['taskId'] as string;
    const status = documented('task', await runCli(['task', taskId, '--json', ...api], agent));
    expect(status).toMatchObject({ taskId, state: 'TASK_STATE_PAID', cost: String(cost), resultAvailable: true, account: 'agent/remote' });
    const table = await runCli(['task', taskId, ...api], agent);
    expect([table.code, stderrOf(table)]).toEqual([0, '']);
    expect(table.stdout).toMatch(/state\s+│ paid/);
    expect(await operator.audit()).toMatchObject({ ok: true, problems: [] });
  });

  it('finds the API from SWARM_API_URL, takes --redundancy, prints the human tables and lists peers', async () => {
    const env = { ...agent, SWARM_API_URL: `http://${node.httpAddress}` };
    // --redundancy travels in the body; 1 is the one provider this node is.
    const submit = await runCli(['submit', '--skill', 'matmul', '--size', '4', '--seed', '2', '--redundancy', '1'], env);
    expect([submit.code, stderrOf(submit)]).toEqual([0, '']);
    expect(submit.stdout).toMatch(/verified by\s+│ \S+/);
    expect(submit.stdout).toMatch(/paid\s+│ \d+ credits? to [0-9a-f]{16}…/);
    const balance = await runCli(['balance'], env);
    expect(balance.stdout).toMatch(/account\s+│ agent\/remote/);
    expect(balance.stdout).toMatch(/tasks\s+│ 2/);
    const peers = await runCli(['peers'], env);
    expect([peers.code, peers.stdout]).toEqual([0, 'no peers known yet (a node with no seeds is alone until another node joins through it)\n']);
    expect(documented('peers', await runCli(['peers', '--json'], env))).toEqual({ peers: [] });
  });

  it('refuses a wrong token (SWARM_UNAUTHENTICATED, exit 1) and a missing one (SWARM_BAD_ARGS, exit 2), charging nothing', async () => {
    const wrong = await runCli(['balance', ...api], { ...agent, SWARM_AGENT_TOKEN: `swt_${'x'.repeat(43)}` });
    expect([wrong.code, wrong.stdout, stderrOf(wrong).trim()]).toEqual([1, '', 'error SWARM_UNAUTHENTICATED: unknown agent token']);
    expect(
      documented('submit', await runCli(['submit', '--skill', 'vecadd', '--size', '2', '--json', ...api], { ...agent, SWARM_AGENT_TOKEN: `swt_${'x'.repeat(43)}` }), 1),
    ).toEqual({
      error: { code: 'SWARM_UNAUTHENTICATED', message: 'unknown agent token', exitStatus: 1 },
    });
    const missing = await runCli(['skills', ...api], { ...agent, SWARM_AGENT_TOKEN: '' });
    expect([missing.code, missing.stdout]).toEqual([2, '']);
    expect(stderrOf(missing)).toMatch(/^error SWARM_BAD_ARGS: set SWARM_AGENT_TOKEN to the agent's token \(swt_… from `swarm agent add NAME --budget N`\)/);
    const balance = documented('balance', await runCli(['balance', '--json', ...api], agent));
    expect(balance).toMatchObject({ tasks: '2' });
  });

  it('refuses what has no meaning for an agent, and never mixes the bus and the API', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['balance', '--account', 'node', ...api], /--account has no meaning for an agent/],
      [['task', '--key', 'remote-1', ...api], /the agent API finds tasks by id only/],
      [['skills', ...api, '--nats', node.natsUrl], /--api-url acts as an agent over the HTTP API and --nats names the node's bus/],
      [['submit', '--skill', 'vecadd', '--size', '2', '--redundancy', '6', ...api], /option '--redundancy <k>' argument '6' is invalid\. expected a whole number from 1 to 5/],
      [['submit', '--skill', 'vecadd', '--size', '2', '--redundancy', '0', ...api], /expected a whole number from 1 to 5/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, agent);
      expect({ args, code: r.code, stderr: stderrOf(r) }).toEqual({ args, code: 2, stderr: expect.stringMatching(message) });
    }
    // Both set in the environment: either could be meant, so neither is guessed.
    const both = await runCli(['balance'], { ...agent, SWARM_NATS_URL: node.natsUrl });
    expect([both.code, stderrOf(both)]).toEqual([2, expect.stringMatching(/^error SWARM_BAD_ARGS: both SWARM_NATS_URL/)]);
    // An explicit bus target wins over the token: the node's account, with the client key, and a note.
    const bus = await runCli(['balance', '--json', '--nats', node.natsUrl, '--data-dir', node.dataDir], agent);
    expect(documented('balance', bus)).toMatchObject({ account: node.nodeId });
    expect(stderrOf(bus)).toMatch(/^note: --nats, --data-dir name the node's bus/);
  });

  it('says SWARM_NO_NODE when nothing answers at the API address', async () => {
    const r = await runCli(['skills', '--api-url', `127.0.0.1:${await closedPort()}`], agent);
    expect([r.code, stderrOf(r)]).toEqual([1, expect.stringMatching(/^error SWARM_NO_NODE: cannot reach the agent API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/)]);
  });

  it('stops quietly, exit 0 and nothing on stderr, when the reader closes the pipe early', async () => {
    // About half a megabyte of JSON: far more than one write the pipe takes once `head` has gone.
    const script = `"$NODE_BIN" "$SWARM_JS" submit --skill vecadd --size 100000 --seed 3 --json --api-url http://${node.httpAddress} 2>"$ERR" | head -c 20; echo " status=\${PIPESTATUS[0]}"`;
    const err = join(nowhere.path, 'head.err');
    const r = await runProcess('bash', ['-c', script], { ...agent, NODE_BIN: process.execPath, SWARM_JS: SWARM, ERR: err }, 90_000);
    expect(r.stdout).toMatch(/^\{"taskId":"[^"]*.* status=0\n$/s);
    expect(readFileSync(err, 'utf8').replace(/^swarm: .*\n/gm, '')).toBe('');
  });
});

describe('swarm as a remote agent - at an address that is not the agent API', () => {
  const token = { SWARM_AGENT_TOKEN: `swt_${'a'.repeat(43)}`, SWARM_API_URL: '' };
  let server: Server;
  let url: string;

  beforeAll(async () => {
    // As `python3 -m http.server` answers a path it does not have.
    server = createHttpServer((_req, res) => {
      res
        .writeHead(404, 'File not found', { 'content-type': 'text/html;charset=utf-8' })
        .end('<!DOCTYPE HTML>\n<html><body><h1>Error response</h1><p>secret page</p></body></html>\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('says SWARM_NO_NODE, naming the status line only, when another web server answers there', async () => {
    const r = await runCli(['balance', '--api-url', url], token);
    expect([r.code, stderrOf(r)]).toEqual([
      1,
      `error SWARM_NO_NODE: no SwarmHarness agent API at ${url}: GET /v1/balance was answered HTTP 404 File not found (text/html;charset=utf-8), not the API's JSON; is that the node's agent API address?\n`,
    ]);
  });
});

describe('swarm as a remote agent - at an address that takes the connection and never answers', () => {
  const token = { SWARM_AGENT_TOKEN: `swt_${'a'.repeat(43)}`, SWARM_API_URL: '' };
  let silent: SilentServer;
  let url: string;

  beforeAll(async () => {
    silent = await startSilentServer();
    url = `http://127.0.0.1:${silent.port}`;
  });
  afterAll(() => silent.close());

  it('gives up as bus mode does: SWARM_NO_NODE for a read, a lost answer naming the key for a submit, each in bounded time', async () => {
    // Each command is killed (and the test fails) if it runs past 30 s: they used to wait forever.
    const timed = async (args: string[]) => {
      const started = Date.now();
      const r = await runCli([...args, '--api-url', url], token, 30_000);
      return { code: r.code, stderr: stderrOf(r), seconds: (Date.now() - started) / 1000 };
    };
    const [balance, skills, task, submit] = await Promise.all([
      timed(['balance']),
      timed(['skills']),
      timed(['task', `task-${'0'.repeat(32)}`]),
      timed(['submit', '--skill', 'vecadd', '--size', '4', '--timeout', '2000', '--key', 'silent-1']),
    ]);
    for (const [r, path] of [
      [balance, '/v1/balance'],
      [skills, '/v1/skills'],
      [task, `/v1/tasks/task-${'0'.repeat(32)}\\?encoding=base64`],
    ] as const) {
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 1,
        stderr: expect.stringMatching(
          new RegExp(`^error SWARM_NO_NODE: cannot reach the agent API at ${url} \\(no answer to GET ${path} within 15 s\\); is the node running\\?\n$`),
        ),
      });
      expect(r.seconds).toBeLessThan(25);
    }
    // The task went out: its answer is lost, not "no node"; asked once more by key, as over the bus.
    expect({ code: submit.code, stderr: submit.stderr }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/^error SWARM_DEADLINE_EXCEEDED: \(task key silent-1\) no answer from the agent API at \S+ to POST \/v1\/tasks within 5 s .*--key silent-1/),
    });
    // --timeout 2000: 2 s + 3 s, then the retry by key 1 s + 3 s, where the reads' 15 s each would be
    // 30 s at least; the margin is for a loaded machine (16.6 s seen with the suite beside it).
    expect(submit.seconds).toBeLessThan(25);
  });
});
