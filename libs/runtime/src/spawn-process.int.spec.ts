import { waitFor } from '@swarm/testing';
import type { SpawnProcessOptions } from './spawn-process';
import { spawnProcess } from './spawn-process';

const node = (script: string, extra: Partial<SpawnProcessOptions> = {}) => spawnProcess({ command: process.execPath, args: ['-e', script], ...extra });
/** Reads the umask without the deprecated no-argument call. */
const READ_UMASK = 'const m = process.umask(0); process.umask(m);';
const umaskNow = () => {
  const m = process.umask(0);
  process.umask(m);
  return m;
};

describe('spawnProcess - the one child-process wrapper', () => {
  it('captures stdout and stderr, each up to its cap, and resolves with the exit code', async () => {
    const p = node(`process.stdout.write('x'.repeat(5000)); process.stderr.write('warn'); process.exitCode = 3;`, { captureChars: 100 });
    expect(await p.exited).toEqual({ code: 3, signal: null });
    expect(p.stdout()).toBe('x'.repeat(100));
    expect(p.stderr()).toBe('warn');
    expect(p.running()).toBe(false);
  });

  it('answers a command that cannot start with an exit naming why, never a rejection', async () => {
    const p = spawnProcess({ command: '/nonexistent/swarm-no-such-binary' });
    const exit = await p.exited;
    expect(exit).toMatchObject({ code: null, error: expect.stringMatching(/ENOENT/) });
  });

  it('stops a child that ignores SIGTERM with SIGKILL once the grace has passed', async () => {
    const p = node(`process.on('SIGTERM', () => console.log('ignored')); setInterval(() => {}, 1000); console.log('ready');`);
    await waitFor(() => p.stdout().includes('ready'), { timeoutMs: 10_000, what: 'the child ready' });
    expect(await p.stop(300)).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(p.stdout()).toContain('ignored');
  });

  it('kills a child that runs past its timeout and says so', async () => {
    const p = node('setInterval(() => {}, 1000);', { timeoutMs: 200 });
    expect(await p.exited).toMatchObject({ signal: 'SIGKILL', timedOut: true });
  });

  it('starts the child with the umask asked for and leaves this process its own', async () => {
    const before = umaskNow();
    const p = node(`${READ_UMASK} process.stdout.write(m.toString(8))`, { umask: before === 0o077 ? 0o027 : 0o077 });
    await p.exited;
    expect(p.stdout()).toBe(before === 0o077 ? '27' : '77');
    expect(umaskNow()).toBe(before);
  });
});
