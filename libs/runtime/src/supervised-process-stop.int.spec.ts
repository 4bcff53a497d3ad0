import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import type { ExitInfo, SupervisedOptions, SupervisedProcess } from './supervised-process';
import { RESTART_DELAY_MS, startSupervised } from './supervised-process';
import { isAlive } from '@swarm/testing';

jest.setTimeout(60_000);

/** Generous: the machine running the suite may be busy; these bound a hang, not a speed. */
const WAIT_MS = 20_000;

describe('supervised process - restart and stop', () => {
  let dir: TempDir;
  let running: SupervisedProcess | undefined;

  beforeEach(async () => {
    dir = await tempDir('swarm-supervised-stop-');
  });

  afterEach(async () => {
    await running?.stop(1_000);
    running = undefined;
    await dir.remove();
  });

  /** A supervised `node -e script`, recording its launches and exits. */
  const supervise = (script: string, extra: Partial<SupervisedOptions> = {}) => {
    const starts: Array<number | undefined> = [];
    const exits: ExitInfo[] = [];
    const logFile = join(dir.path, 'svc.log');
    running = startSupervised({
      name: 'svc',
      command: process.execPath,
      args: ['-e', script],
      env: { MARKER: join(dir.path, 'marker') },
      logFile,
      onStart: (pid) => starts.push(pid),
      onExit: (e) => exits.push(e),
      ...extra,
    });
    const logged = (text: string) => waitFor(async () => (await readFile(logFile, 'utf8')).includes(text), { timeoutMs: WAIT_MS, what: `'${text}' in the log` });
    return { p: running, starts, exits, logFile, logged };
  };

  it('relaunches a process that exited unexpectedly as a new process, and tells about both', async () => {
    // First run: leaves a marker and fails; the relaunch finds it and keeps running.
    const script = `const fs = require('node:fs');
      if (!fs.existsSync(process.env.MARKER)) { fs.writeFileSync(process.env.MARKER, ''); process.exit(3); }
      console.log('second run up'); setInterval(() => {}, 1000);`;
    const { p, starts, exits, logged } = supervise(script);
    await logged('second run up');
    expect(starts).toHaveLength(2);
    expect(starts[0]).not.toBe(starts[1]);
    expect(p.pid()).toBe(starts[1]);
    expect(p.restarts()).toBe(1);
    expect(exits).toEqual([{ name: 'svc', code: 3, signal: null, restarting: true, delayMs: RESTART_DELAY_MS, crashLoop: false }]);
  });

  it('stops a process that heeds SIGTERM with its own exit, without killing it', async () => {
    const script = `process.on('SIGTERM', () => setTimeout(() => { console.log('cleaned up'); process.exit(0); }, 200));
      setInterval(() => {}, 1000); console.log('ready');`;
    const { p, exits, logFile, logged } = supervise(script);
    await logged('ready');
    const pid = p.pid() as number;
    expect(await p.stop(WAIT_MS)).toBe(0);
    expect(exits).toEqual([expect.objectContaining({ code: 0, signal: null, restarting: false })]);
    expect(await readFile(logFile, 'utf8')).toContain('cleaned up');
    expect(isAlive(pid)).toBe(false);
  });

  it('kills a process that ignores SIGTERM once the grace has passed, and does not restart it', async () => {
    const script = `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); setInterval(() => {}, 1000); console.log('ready');`;
    const { p, starts, exits, logFile, logged } = supervise(script);
    await logged('ready');
    const pid = p.pid() as number;
    expect(await p.stop(500)).toBeNull();
    expect(exits).toEqual([expect.objectContaining({ code: null, signal: 'SIGKILL', restarting: false })]);
    // It was asked first: SIGTERM reached it before the SIGKILL.
    expect(await readFile(logFile, 'utf8')).toContain('ignoring SIGTERM');
    expect(isAlive(pid)).toBe(false);
    expect(starts).toHaveLength(1);
    expect(p.restarts()).toBe(0);
  });

  it('launches nothing more when stopped during the pause before a restart', async () => {
    const { p, starts, exits } = supervise('process.exit(1)');
    await waitFor(() => exits.length === 1, { timeoutMs: WAIT_MS, what: 'the first exit' });
    expect(exits[0]).toMatchObject({ restarting: true });
    expect(await p.stop(1_000)).toBeNull();
    // A relaunch would have come after RESTART_DELAY_MS; wait well past it.
    await new Promise((r) => setTimeout(r, RESTART_DELAY_MS * 4));
    expect(starts).toHaveLength(1);
  });

  it('launches nothing more when stop() is called by the exit callback itself', async () => {
    let stopped: Promise<number | null> | undefined;
    const { starts } = supervise('process.exit(1)', {
      // A launcher that gives up on a service from inside onExit (e.g. a failed start).
      onExit: () => {
        stopped ??= running?.stop(1_000);
      },
    });
    await waitFor(() => stopped !== undefined, { timeoutMs: WAIT_MS, what: 'stop() from onExit' });
    await stopped;
    await new Promise((r) => setTimeout(r, RESTART_DELAY_MS * 4));
    expect(starts).toHaveLength(1);
  });

  it('answers two stop() calls at once with the same exit', async () => {
    const script = `process.on('SIGTERM', () => process.exit(5)); setInterval(() => {}, 1000); console.log('ready');`;
    const { p, exits, logged } = supervise(script);
    await logged('ready');
    expect(await Promise.all([p.stop(WAIT_MS), p.stop(WAIT_MS)])).toEqual([5, 5]);
    expect(exits).toHaveLength(1);
  });
});
