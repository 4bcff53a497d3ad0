import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CreditService } from '@swarm/credit-svc';
import { loadCreditConfig, startCreditService } from '@swarm/credit-svc';
import { systemTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, tempDir } from '@swarm/testing';
import { Level } from 'level';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';
import type { CliResult } from './run-cli';
import { runCli, runProcess, SWARM } from './run-cli';

const SWARM_CMD = '"$NODE_BIN" "$SWARM_JS"';

/** Runs a bash pipeline (`swarm … | reader`); `${SWARM_CMD}` runs the real CLI. */
function runPipeline(script: string, timeoutMs = 90_000): Promise<CliResult> {
  return runProcess('bash', ['-c', `set -o pipefail; ${script}`], { NODE_BIN: process.execPath, SWARM_JS: SWARM }, timeoutMs);
}

/** A reader that only starts reading after a pause, as a busy consumer does: the pipe fills first. */
const SLOW_READER = `
setTimeout(() => {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    let values = null;
    // proto3 JSON: tensor data is base64 of float32.
    try { values = Buffer.from(JSON.parse(text).outputs[0].data, 'base64').length / 4; } catch {}
    process.stdout.write(JSON.stringify({ bytes: Buffer.byteLength(text), values }));
  });
}, 500);
`;

/** A tensor's `data` in `--json` output (proto3 JSON bytes: base64 of little-endian float32). */
function floats(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  return Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
}

describe('swarm CLI - against a running node', () => {
  let node: InProcessNode;
  let dir: TempDir;

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_GENESIS_GRANT: '100' });
    dir = await tempDir('swarm-cli-');
  }, 30_000);

  afterAll(async () => {
    await node.stop();
    await dir.remove();
  });

  it('submits from an input file and prints one JSON document', async () => {
    const file = join(dir.path, 'in.json');
    await writeFile(
      file,
      JSON.stringify({
        inputs: [
          { name: 'a', shape: [2, 2], data: [1, 2, 3, 4] },
          { name: 'b', shape: [2, 2], data: [5, 6, 7, 8] },
        ],
      }),
    );
    const r = await runCli(['submit', '--skill', 'matmul', '--input', file, '--json', '--nats', node.natsUrl]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { outputs: Array<{ name: string; shape: number[]; data: string }>; cost: string; verification: string };
    const [c] = out.outputs;
    expect({ ...c, data: floats(c?.data ?? '') }).toEqual({ name: 'c', shape: [2, 2], data: [19, 22, 43, 50] });
    expect(out.cost).toBe('1');
  });

  it('names the task key when its answer cannot be written (a full disk): the task was sent, and the key gets it again', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, [SWARM, 'submit', '--skill', 'vecadd', '--size', '4', '--key', 'full-disk-1', '--json', '--nats', node.natsUrl], {
        stdio: ['ignore', full, 'pipe'],
        env: { ...process.env, SWARM_NATS_URL: '' },
      });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect({ code, stderr: stderr.trim() }).toEqual({
        code: 1,
        stderr:
          'error SWARM_OS_ERROR: cannot write the output: ENOSPC: no space left on device, write; the task was sent (task key full-disk-1): swarm task --key full-disk-1 tells what became of it',
      });
    } finally {
      closeSync(full);
    }
    const again = await runCli(['task', '--key', 'full-disk-1', '--json', '--nats', node.natsUrl]);
    expect(JSON.parse(again.stdout)).toMatchObject({ state: 'TASK_STATE_PAID' });
  });

  it('shows balance and skills as JSON and as tables (SWARM_NATS_URL finds the node)', async () => {
    const env = { SWARM_NATS_URL: node.natsUrl };
    const balance = JSON.parse((await runCli(['balance', '--json'], env)).stdout) as { account: string; available: string };
    expect(balance).toMatchObject({ account: node.nodeId, available: '100' });
    const skills = JSON.parse((await runCli(['skills', '--json'], env)).stdout) as { skills: Array<{ name: string }> };
    expect(skills.skills.map((s) => s.name).sort()).toEqual(['matmul', 'mlp', 'vecadd']);
    const table = await runCli(['skills'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/freivalds/);
    // The node's own account, as a table, says how it differs from the chain `swarm ledger` shows.
    const own = await runCli(['balance'], env);
    expect([own.code, own.stdout]).toEqual([0, expect.stringMatching(/available\s+│ 100 credits/)]);
    expect(own.stdout).toMatch(/spent\s+│ \d+ credits?\s/);
    expect(own.stderr).toMatch(/^note: this is the node's account, .*\(`swarm ledger`\)/);
  });

  it.each([
    ['no credits', ['submit', '--skill', 'matmul', '--size', '64', '--budget', '5000'], 'SWARM_INSUFFICIENT_CREDIT'],
    ['budget beyond uint64', ['submit', '--skill', 'matmul', '--size', '8', '--budget', '99999999999999999999999'], 'SWARM_BAD_ARGS'],
    ['timeout beyond uint32', ['submit', '--skill', 'matmul', '--size', '8', '--timeout', '99999999999'], 'SWARM_BAD_ARGS'],
    ['timeout beyond the longest task deadline', ['submit', '--skill', 'matmul', '--size', '8', '--timeout', '120001'], 'SWARM_BAD_ARGS'],
    ['size beyond what --help states', ['submit', '--skill', 'matmul', '--size', '1001'], 'SWARM_BAD_ARGS'],
    ['an empty account (an unset variable)', ['balance', '--account', ''], 'SWARM_BAD_ARGS'],
    ['size zero', ['submit', '--skill', 'vecadd', '--size', '0'], 'SWARM_BAD_ARGS'],
    ['unknown skill for --size (nothing sent)', ['submit', '--skill', 'teleport', '--size', '8'], 'SWARM_BAD_ARGS'],
    // Not run with a longer deadline behind the user's back (the retry by key is for lost replies).
    ['timeout too short to start the task', ['submit', '--skill', 'vecadd', '--size', '8', '--timeout', '1'], 'SWARM_DEADLINE_EXCEEDED'],
    ['timeout too short to finish the task', ['submit', '--skill', 'vecadd', '--size', '1000000', '--timeout', '5'], 'SWARM_DEADLINE_EXCEEDED'],
    ['missing input', ['submit', '--skill', 'matmul', '--input', '/nonexistent/in.json'], 'SWARM_BAD_ARGS'],
    ['size and input both missing', ['submit', '--skill', 'matmul'], 'SWARM_BAD_ARGS'],
    ['unknown option', ['submit', '--skill', 'matmul', '--size', '8', '--turbo'], 'SWARM_BAD_ARGS'],
    ['ledger of a peer that is no node id', ['ledger', '--peer', 'xyz'], 'SWARM_BAD_ARGS'],
  ])('fails clearly: %s', async (_name, args, code) => {
    const r = await runCli([...args, '--nats', node.natsUrl]);
    expect(r.code).toBe(code === 'SWARM_BAD_ARGS' ? 2 : 1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(new RegExp(`^error ${code}: .+`));
  });

  it('names a mistyped option as the unknown option it is (with the likely one), and a required one left out', async () => {
    const typo = await runCli(['submit', '--skil', 'matmul', '--size', '8', '--nats', node.natsUrl]);
    expect({ code: typo.code, stderr: typo.stderr.trim() }).toEqual({ code: 2, stderr: "error SWARM_BAD_ARGS: unknown option '--skil' (Did you mean --skill?)" });
    const missing = await runCli(['submit', '--size', '8', '--nats', node.natsUrl]);
    expect({ code: missing.code, stderr: missing.stderr.trim() }).toEqual({ code: 2, stderr: "error SWARM_BAD_ARGS: required option '--skill <name>' not specified" });
  });

  it('refuses what is no NATS URL, and an agent name api-svc would refuse, as bad usage before anything is sent', async () => {
    const url = await runCli(['balance', '--nats', 'not a url']);
    expect({ code: url.code, stderr: url.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(/^error SWARM_BAD_ARGS: .*expected a NATS URL such as nats:\/\/127\.0\.0\.1:4222/),
    });
    const name = await runCli(['agent', 'add', 'bad name!', '--budget', '5', '--nats', node.natsUrl]);
    expect({ code: name.code, stderr: name.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/^error SWARM_BAD_ARGS: .*expected 1-32 of a-z, 0-9 and -/) });
    // An escape sequence in what was refused is shown, not sent to the terminal.
    const escape = await runCli(['balance', '--nats', 'bad\u001b[2Jurl']);
    expect(escape.code).toBe(2);
    expect(escape.stderr).toContain('bad\\x1b[2Jurl');
    expect(escape.stderr).not.toContain('\u001b');
    // A password in the URL is not repeated in the error.
    const secret = await runCli(['balance', '--nats', 'nats://operator:hunter2@127.0.0.1:1']);
    expect(secret.stderr).toMatch(/^error SWARM_NO_NODE: cannot reach a node's NATS at nats:\/\/…@127\.0\.0\.1:1 /);
    expect(secret.stderr).not.toContain('hunter2');
    // host:port is a NATS URL too.
    expect((await runCli(['balance', '--nats', node.natsUrl.replace('nats://', ''), '--json'])).code).toBe(0);
  });

  it('fails clearly on a bad input file', async () => {
    const file = join(dir.path, 'bad.json');
    await writeFile(file, '{"inputs": [{"name": "a", "shape": [2, 2], "data": [1, 2, 3]}]}');
    const r = await runCli(['submit', '--skill', 'matmul', '--input', file, '--nats', node.natsUrl]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error SWARM_BAD_ARGS: input file .*bad.json: tensor 'a'/);
  });

  it.each([
    ['not JSON', 'notjson.json', '{"inputs": [', /is not JSON/],
    // One line, and none of the file's text echoed (the parser's own message quotes it, newlines and all).
    ['text over two lines', 'twolines.json', 'not json\nsecret line\n', /^error SWARM_BAD_ARGS: input file \S+twolines\.json is not JSON\n$/],
    [
      'shapes the skill cannot multiply',
      'shapes.json',
      JSON.stringify({
        inputs: [
          { name: 'a', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
          { name: 'b', shape: [2, 2], data: [1, 2, 3, 4] },
        ],
      }),
      /input file .*shapes\.json: matmul/,
    ],
    [
      'inputs named otherwise',
      'names.json',
      JSON.stringify({
        inputs: [
          { name: 'x', shape: [1], data: [1] },
          { name: 'y', shape: [1], data: [1] },
        ],
      }),
      /must be named 'a'/,
    ],
  ])('exits 2 before sending anything on an input file that is %s', async (_name, fileName, text, message) => {
    const file = join(dir.path, fileName);
    await writeFile(file, text);
    const r = await runCli(['submit', '--skill', 'matmul', '--input', file, '--nats', node.natsUrl]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(/^error SWARM_BAD_ARGS: /);
    expect(r.stderr).toMatch(message);
  });

  it('delivers the whole JSON document of a large result through a pipe to a slow reader', async () => {
    const reader = join(dir.path, 'slow-reader.js');
    await writeFile(reader, SLOW_READER);
    // 500,000 floats are about 2.7 MB of base64 JSON: more than sixteen 64 KiB pipe buffers.
    const r = await runPipeline(`${SWARM_CMD} submit --skill vecadd --size 500000 --seed 3 --json --nats ${node.natsUrl} 2>${dir.path}/pipe.err | "$NODE_BIN" ${reader}`);
    expect(await readFile(join(dir.path, 'pipe.err'), 'utf8')).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as { bytes: number; values: number | null };
    expect(got.values).toBe(500_000);
    expect(got.bytes).toBeGreaterThan(16 * 64 * 1024);
  });

  it('stops quietly, exit 0 and no stack trace, when the reader closes the pipe early', async () => {
    const r = await runPipeline(
      `${SWARM_CMD} submit --skill matmul --size 256 --seed 4 --json --nats ${node.natsUrl} 2>${dir.path}/head.err | head -c 20; echo " status=\${PIPESTATUS[0]}"`,
    );
    expect(await readFile(join(dir.path, 'head.err'), 'utf8')).toBe('');
    expect(r.stdout).toMatch(/^\{"taskId":"[^"]*.* status=0\n$/s);
    expect(r.stdout.split(' status=')[0]).toHaveLength(20);
  });

  it('audits the ledger after tasks, as a table and as one JSON document', async () => {
    await runCli(['submit', '--skill', 'vecadd', '--size', '16', '--nats', node.natsUrl]);
    const json = await runCli(['ledger', '--audit', '--json', '--nats', node.natsUrl]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const audit = JSON.parse(json.stdout) as {
      ok: boolean;
      entriesChecked: string;
      escrowsChecked: string;
      genesis: string;
      available: string;
      escrowed: string;
      problems: string[];
      accounts: Array<Record<string, string>>;
    };
    expect(audit).toMatchObject({ ok: true, problems: [], genesis: '100', escrowed: '0' });
    // Genesis, then per task a reserve and a settle (the node pays its own executors).
    expect(Number(audit.entriesChecked)).toBeGreaterThanOrEqual(5);
    expect(Number(audit.escrowsChecked)).toBeGreaterThanOrEqual(2);
    const mine = audit.accounts.find((a) => a['account'] === node.nodeId);
    expect(mine).toMatchObject({ storedAvailable: '100', logAvailable: '100', storedEscrowed: '0', logEscrowed: '0' });

    const table = await runCli(['ledger', '--audit', '--nats', node.natsUrl]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/ok: the log explains every stored balance and escrow/);
    expect(table.stdout).toMatch(/each closed at most once/);
    expect(table.stdout).toMatch(new RegExp(`${node.nodeId.slice(0, 12)}.*100 / 0.*100 / 0.*same`));
  });
});

describe('swarm CLI - a ledger audit that finds a problem', () => {
  let nats: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let credit: CreditService | undefined;
  const NODE = 'node-audit-1';

  beforeAll(async () => {
    [nats, dir] = await Promise.all([startNatsServer(), tempDir('swarm-cli-audit-')]);
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await credit?.stop();
    await nc.drain();
    await Promise.all([nats.stop(), dir.remove()]);
  });

  it('prints what differs and exits 1 with SWARM_AUDIT_FAILED', async () => {
    // Only credit-svc answers an audit. Its ledger is damaged behind its back, as a bug or a bad disk would.
    const config = loadCreditConfig({ SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: dir.path, SWARM_CREDIT_SYNC_WRITES: 'false' });
    await (await startCreditService({ config, log: silentLogger(), nc, nodeId: NODE, ...systemTime })).stop();
    const raw = new Level<string, string>(config.ledgerPath);
    await raw.sublevel<string, string>('acct', {}).put(NODE, '{"available":"1500","escrowed":"0","spent":"0","reserves":"0"}');
    await raw.close();
    credit = await startCreditService({ config, log: silentLogger(), nc, nodeId: NODE, ...systemTime });

    const table = await runCli(['ledger', '--audit', '--nats', nats.url]);
    expect(table.code).toBe(1);
    expect(table.stderr).toMatch(/^error SWARM_AUDIT_FAILED: the ledger audit found problems: account node-audit-1 stores 1500\/0, log gives 1000\/0/);
    expect(table.stdout).toMatch(/node-audit-1.*1500 \/ 0.*1000 \/ 0.*DIFFERS/);
    expect(table.stdout).toMatch(/credit not conserved/);

    const json = await runCli(['ledger', '--audit', '--json', '--nats', nats.url]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, accounts: [{ account: NODE, storedAvailable: '1500', logAvailable: '1000' }] });
  });
});

describe('swarm CLI - without a node', () => {
  it('treats no command, and --nats with --node, as bad usage (help on stderr, exit 2), and --help and `help [command]` as success', async () => {
    const bare = await runCli([]);
    expect({ code: bare.code, stdout: bare.stdout }).toEqual({ code: 2, stdout: '' });
    expect(bare.stderr).toMatch(/Usage: swarm/);
    expect(bare.stderr).toMatch(/^error SWARM_BAD_ARGS: no command given/m);
    expect((await runCli(['--help'])).code).toBe(0);
    for (const args of [['help'], ['help', 'submit'], ['agent', 'help', 'add']]) {
      const r = await runCli(args);
      expect({ args, code: r.code, usage: /Usage: swarm/.test(r.stdout) }).toEqual({ args, code: 0, usage: true });
    }
    const both = await runCli(['balance', '--nats', 'nats://127.0.0.1:1', '--node', '3']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^error SWARM_BAD_ARGS: option '--nats <url>' cannot be used with option '--node <i>'/m);
    const unknown = await runCli(['help', 'nosuch']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error SWARM_BAD_ARGS: there is no command 'nosuch' to give help on/m);
  });

  it('refuses an --input that is a FIFO or a device at once, exit 2, rather than blocking on it or reading it forever', async () => {
    const dir = await tempDir('swarm-fifo-');
    try {
      const fifo = join(dir.path, 'pipe');
      await runProcess('mkfifo', [fifo], {}, 10_000);
      for (const [input, what] of [
        [fifo, 'a FIFO \\(named pipe\\)'],
        ['/dev/zero', 'a character device'],
      ]) {
        // The command's own timeout: it used to block on the FIFO and read /dev/zero for 14 s.
        const r = await runCli(['submit', '--skill', 'matmul', '--input', input, '--nats', 'nats://127.0.0.1:1'], {}, 10_000);
        expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
          code: 2,
          stdout: '',
          stderr: expect.stringMatching(new RegExp(`^error SWARM_BAD_ARGS: input file \\S+ is ${what}, not a regular file`)),
        });
      }
    } finally {
      await dir.remove();
    }
  });

  it('refuses an account id or an agent name the node would refuse as bad usage (exit 2), sending nothing', async () => {
    // Port 1: nothing listens, so whatever got as far as connecting would be SWARM_NO_NODE (exit 1).
    const nowhere = ['--nats', 'nats://127.0.0.1:1'];
    const long = await runCli(['balance', '--account', 'a'.repeat(5_000), ...nowhere]);
    expect({ code: long.code, stderr: long.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(/^error SWARM_BAD_ARGS: --account must be a ledger account: .*got 5000 characters\n$/),
    });
    for (const name of ['', 'Bad Name']) {
      const r = await runCli(['agent', 'revoke', name, ...nowhere]);
      expect({ name, code: r.code, stderr: r.stderr }).toEqual({ name, code: 2, stderr: expect.stringMatching(/^error SWARM_BAD_ARGS: .*expected 1-32 of a-z, 0-9 and -/) });
    }
  });

  it('says no node is reachable', async () => {
    const r = await runCli(['balance', '--nats', 'nats://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error SWARM_NO_NODE: cannot reach a node's NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  it('prints the error as the one JSON document on stdout under --json, for bad usage too', async () => {
    const r = await runCli(['balance', '--json', '--nats', 'nats://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'SWARM_NO_NODE', message: expect.stringMatching(/cannot reach a node's NATS/), exitStatus: 1 } });
    const bad = await runCli(['submit', '--json', '--skill', 'vecadd', '--size', 'abc']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: 'SWARM_BAD_ARGS', exitStatus: 2 } });
  });

  it('points at the node in the home when SWARM_NATS_URL is stale (the node restarted on a new port)', async () => {
    const home = await tempDir('swarm-home-');
    try {
      // A live node file (this test's own pid stands in for the launcher) with another URL.
      await writeFile(join(home.path, 'node.json'), JSON.stringify({ natsUrl: 'nats://127.0.0.1:2', nodeId: 'n', pid: process.pid, startedAt: '' }));
      const r = await runCli(['balance', '--data-dir', home.path], { SWARM_NATS_URL: 'nats://127.0.0.1:1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^error SWARM_NO_NODE: SWARM_NATS_URL is nats:\/\/127\.0\.0\.1:1, which does not answer, but the node in .* listens on nats:\/\/127\.0\.0\.1:2; unset SWARM_NATS_URL/,
      );
    } finally {
      await home.remove();
    }
  });

  // Three whole CLI processes: 0.4 s each on a quiet machine, over 30 s once in a loaded CI run (hence the timeout and the times shown).
  it('reports an unreachable node for every command, never a raw NATS code', async () => {
    const home = await tempDir('swarm-no-node-'); // empty: no node.json to point at
    try {
      for (const args of [['ledger', '--audit'], ['submit', '--skill', 'vecadd', '--size', '4'], ['health']]) {
        const started = Date.now();
        const r = await runCli([...args, '--nats', 'nats://127.0.0.1:1'], { SWARM_HOME: home.path });
        expect({ args, code: r.code, stderr: r.stderr, ms: Date.now() - started }).toEqual({
          args,
          code: 1,
          stderr: expect.stringMatching(/^error SWARM_NO_NODE: /),
          ms: expect.any(Number),
        });
      }
    } finally {
      await home.remove();
    }
  }, 90_000);

  it('reports a file system refusal as SWARM_OS_ERROR with the OS code, not a raw EEXIST or ENOTDIR', async () => {
    const home = await tempDir('swarm-home-');
    const file = join(home.path, 'a-file');
    await writeFile(file, '');
    const r = await runCli(['up', '--exit', '--data-dir', join(file, 'home')]);
    await home.remove();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error SWARM_OS_ERROR: ENOTDIR: .*a-file/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('says no node runs in an empty home', async () => {
    const home = await tempDir('swarm-home-');
    const r = await runCli(['skills', '--data-dir', home.path]);
    await home.remove();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error SWARM_NO_NODE: no running node found/);
  });
});
