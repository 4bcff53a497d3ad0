/**
 * What `swarm up` tells the user to type next works as printed, in a new terminal (its own
 * SWARM_HOME, the client key exported as the hint says): `swarm agent` is the operator's and needs
 * the observer key of the node's home, which the hint names. The revoke that follows says how much
 * its tasks still hold in escrow.
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
  let elsewhere: TempDir;
  let up: BackgroundUp | undefined;
  afterAll(async () => {
    await up?.process.stop(30_000, 'SIGINT');
    await Promise.all([home?.remove(), elsewhere?.remove()]);
  });

  it('`swarm agent add` as printed adds an agent from another terminal; revoke says what is still in escrow', async () => {
    [home, elsewhere] = await Promise.all([tempDir('swarm-hints-'), tempDir('swarm-elsewhere-')]);
    up = await spawnSwarmUp(['--data-dir', home.path], ENV, START_MS);
    const running = up;
    const hints = await waitFor(() => (running.process.stderr().includes('Ctrl-C stops it.') ? running.process.stderr() : undefined), { what: 'the hints' });

    // A new terminal: the variables the hint exports, and a SWARM_HOME of its own.
    const exported = /export (SWARM_NATS_URL=\S+) (SWARM_NATS_NKEY_FILE=\S+)/.exec(hints);
    expect(exported).not.toBeNull();
    const terminal: Record<string, string> = { SWARM_HOME: elsewhere.path };
    for (const pair of exported?.slice(1) ?? []) terminal[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
    const command = /npx swarm (agent add [^(\n]*?)\s*\(/.exec(hints)?.[1];
    expect(command).toBeDefined();

    const added = await runCli((command ?? '').split(' '), terminal);
    expect({ code: added.code, stderr: added.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/SWARM_PERMISSION_DENIED/) as string });
    expect(added.stdout).toMatch(/swt_[A-Za-z0-9_-]{43}/);

    const revoked = await runCli(['agent', 'revoke', 'my-agent', '--data-dir', home.path], terminal);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/returned to the node\W+500 credits/);
    expect(revoked.stdout).toMatch(/in open escrows\W+0 credits/);
  });
});
