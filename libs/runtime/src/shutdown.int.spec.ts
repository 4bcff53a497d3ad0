import { resolve } from 'node:path';
import { waitFor } from '@swarm/testing';
import { compiledNodeArgs } from './compiled-entry';
import { spawnProcess } from './spawn-process';
import { EXIT_BAD_CONFIG } from './exit-codes';

jest.setTimeout(60_000);

/** Generous: the machine running the suite may be busy; these bound a hang, not a speed. */
const WAIT_MS = 30_000;
/** A grace no test reaches: an exit seen under it came from something else. */
const UNREACHED_GRACE_MS = 600_000;
const RUNTIME_DIR = resolve(__dirname, '..');

interface LogLine {
  level: number;
  msg: string;
  reason?: string;
  err?: { message?: string };
}

/** test-fixtures/shutdown-app as a child process, from its compiled file as services run. */
function startApp(...args: string[]) {
  const app = spawnProcess({ command: process.execPath, args: [...compiledNodeArgs(RUNTIME_DIR, 'src/test-fixtures/shutdown-app.ts'), ...args] });
  const lines = () => app.stdout().split('\n');
  return {
    child: app.child,
    exited: app.exited.then(({ code, signal }) => ({ code, signal })),
    /** What the fixture said on stdout, line by line. */
    said: () => lines().filter(Boolean),
    stderr: () => app.stderr(),
    /** Its JSON log lines (stderr). */
    logs: () =>
      app
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine),
    until: (line: string) => waitFor(() => lines().includes(line), { timeoutMs: WAIT_MS, what: `'${line}' from the app` }),
  };
}

describe('shutdown - a service process on SIGTERM/SIGINT', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('on %s runs stop to its end within the grace and exits 0', async (signal) => {
    const app = startApp('slow', String(UNREACHED_GRACE_MS));
    await app.until('ready');
    app.child.kill(signal);
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.said()).toEqual(['ready', 'stop begun', 'stop finished']);
    expect(app.logs().map((l) => l.msg)).toEqual(['shutting down', 'stopped']);
    expect(app.logs()[0]).toMatchObject({ reason: signal });
  });

  it('cuts off a stop that hangs once the grace has passed and exits 1, saying why', async () => {
    const app = startApp('hang', '100');
    await app.until('ready');
    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.said()).toEqual(['ready', 'stop begun']);
    expect(app.logs().map((l) => l.msg)).toEqual(['shutting down', 'shutdown exceeded its grace period']);
  });

  it('exits 1, not 0, when stop never settles and nothing else keeps the process up', async () => {
    const app = startApp('hang-idle', '100');
    await app.until('ready');
    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.said()).toEqual(['ready', 'stop begun']);
    expect(app.logs().map((l) => l.msg)).toContain('shutdown exceeded its grace period');
  });

  it.each([
    ['SIGTERM', 'SIGINT'],
    ['SIGINT', 'SIGINT'],
    ['SIGTERM', 'SIGTERM'],
  ] as const)('exits at once on a second signal during shutdown (%s then %s)', async (first, second) => {
    // The grace is never reached: only the second signal can end this process.
    const app = startApp('hang', String(UNREACHED_GRACE_MS));
    await app.until('ready');
    app.child.kill(first);
    await app.until('stop begun');
    app.child.kill(second);
    const exit = await app.exited;
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(130);
    expect(app.said()).not.toContain('stop finished');
  });

  it('logs a stop that throws, with its error, and still exits (1)', async () => {
    const app = startApp('throw', String(UNREACHED_GRACE_MS));
    await app.until('ready');
    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 1, signal: null });
    const failed = app.logs().find((l) => l.msg === 'shutdown failed');
    expect(failed).toMatchObject({ level: 50, err: { message: 'ledger close failed' } });
  });
});

describe('shutdown - runMain when start fails', () => {
  it('exits EXIT_BAD_CONFIG (78) on a configuration error, with one line naming the code', async () => {
    const app = startApp('main-fails', 'SWARM_BAD_CONFIG');
    expect(await app.exited).toEqual({ code: EXIT_BAD_CONFIG, signal: null });
    expect(app.stderr()).toBe("shutdown-app: error SWARM_BAD_CONFIG: SWARM_GRACE_MS: expected an integer, got 'soon'\n");
  });

  it('exits 1 on any other start failure, naming its code', async () => {
    const app = startApp('main-fails', 'SWARM_NO_NODE');
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.stderr()).toMatch(/^shutdown-app: error SWARM_NO_NODE: /);
  });

  it('names SWARM_START_FAILED for an error without a code', async () => {
    const app = startApp('main-fails', '');
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.stderr()).toMatch(/^shutdown-app: error SWARM_START_FAILED: /);
  });
});
