/**
 * What `swarm up` tells the user to type next works as printed, in a new terminal (whatever its
 * SWARM_HOME was, then what the hint exports): every command it lists, the client's (submit,
 * balance) and the operator's (ledger, agent add: the observer key of the node's home) alike. The
 * revoke that follows says how much its tasks still hold in escrow.
 */
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import { runCli } from './run-cli';
import type { BackgroundUp } from './swarm-processes';
import { spawnSwarmUp } from './swarm-processes';

jest.setTimeout(150_000);

const START_MS = 90_000;
const ENV = { SWARM_EXECUTOR_THREADS: '1', SWARM_LOG_LEVEL: 'warn' };

describe('swarm up - the hints it prints', () => {
  let home: TempDir;
  let up: BackgroundUp | undefined;
  afterAll(async () => {
    await up?.process.stop(30_000, 'SIGINT');
    await home?.remove();
  });

  it('every command it prints works as printed from another terminal; revoke says what is still in escrow', async () => {
    home = await tempDir('swarm-hints-');
    up = await spawnSwarmUp(['--data-dir', home.path], ENV, START_MS);
    const running = up;
    const hints = await waitFor(() => (running.process.stderr().includes('Ctrl-C stops it.') ? running.process.stderr() : undefined), { what: 'the hints' });

    // A new terminal: whatever SWARM_HOME it had, the hint's export sets it.
    const exported = /^ {2}export SWARM_HOME=(\S+); unset SWARM_NATS_URL SWARM_NATS_NKEY_FILE$/m.exec(hints)?.[1];
    expect(exported).toBe(home.path);
    const terminal: Record<string, string> = { SWARM_HOME: exported ?? '' };
    // Each `npx swarm …` line as a shell reads it: without the comment after it.
    const commands = [...hints.matchAll(/^ {2}npx swarm (.+?)(?:\s+#.*)?$/gm)].map((m) => m[1].split(' '));
    expect(commands.map((c) => c[0])).toEqual(['submit', 'balance', 'ledger', 'agent']);
    const outputs: string[] = [];
    for (const command of commands) {
      const r = await runCli(command, terminal);
      expect({ command: command.join(' '), code: r.code, error: /^error .*/m.exec(r.stderr)?.[0] }).toEqual({ command: command.join(' '), code: 0, error: undefined });
      outputs.push(r.stdout);
    }
    expect(outputs[3]).toMatch(/swt_[A-Za-z0-9_-]{43}/);

    const revoked = await runCli(['agent', 'revoke', 'my-agent', '--data-dir', home.path], terminal);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/returned to the node\W+500 credits/);
    expect(revoked.stdout).toMatch(/in open escrows\W+0 credits/);
  });
});
