import { interruptible } from './shutdown';

describe('interruptible - a one-shot command told of Ctrl-C', () => {
  const count = (...signals: NodeJS.Signals[]) => signals.reduce((n, s) => n + process.listenerCount(s), 0);

  it('rejects at once with what the signal means, and leaves no listener', async () => {
    // A signal nothing else in a test worker listens for, emitted rather than sent.
    const never = new Promise<string>(() => undefined);
    const run = interruptible(never, (signal) => new Error(`stopped by ${signal}`), ['SIGUSR2']);
    expect(count('SIGUSR2')).toBe(1);
    process.emit('SIGUSR2', 'SIGUSR2');
    await expect(run).rejects.toThrow('stopped by SIGUSR2');
    expect(count('SIGUSR2')).toBe(0);
  });

  it('listens for SIGINT and SIGTERM while the work runs, passes it through either way, and leaves no listener', async () => {
    const before = count('SIGINT', 'SIGTERM');
    let finish = (_v: number) => undefined as void;
    const run = interruptible(new Promise<number>((r) => (finish = r)), () => new Error('no'));
    expect(count('SIGINT', 'SIGTERM')).toBe(before + 2);
    finish(7);
    await expect(run).resolves.toBe(7);
    await expect(interruptible(Promise.reject(new Error('failed')), () => new Error('no'))).rejects.toThrow('failed');
    expect(count('SIGINT', 'SIGTERM')).toBe(before);
  });
});
