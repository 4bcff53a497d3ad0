import { createSerialQueue } from './serial-queue';

describe('serial queue - ordering', () => {
  it('runs tasks one at a time in queue order', async () => {
    const q = createSerialQueue();
    const log: string[] = [];
    let running = 0;
    const task = (name: string) => async () => {
      running += 1;
      expect(running).toBe(1);
      log.push(`${name}:start`);
      await Promise.resolve();
      await new Promise<void>((r) => setImmediate(r));
      log.push(`${name}:end`);
      running -= 1;
      return name;
    };
    const results = await Promise.all([q.run(task('a')), q.run(task('b')), q.run(task('c'))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  });

  it('keeps going after a failed task, and drain waits for everything queued', async () => {
    const q = createSerialQueue();
    const failed = q.run(async () => {
      throw new Error('boom');
    });
    const after = q.run(async () => 'after');
    expect(q.size).toBe(2);
    await expect(failed).rejects.toThrow('boom');
    await expect(after).resolves.toBe('after');
    await q.drain();
    expect(q.size).toBe(0);
  });
});
