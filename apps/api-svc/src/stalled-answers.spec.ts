import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { STALL_LIMIT_MS, STALLED_BYTES, watchStalledAnswers } from './stalled-answers';

/** A response whose unsent bytes the test sets, and which records being destroyed. */
function fakeResponse(): ServerResponse & { unsent: number; wasDestroyed: boolean } {
  const res = Object.assign(new EventEmitter(), { unsent: 0, wasDestroyed: false });
  Object.defineProperty(res, 'writableLength', { get: () => res.unsent });
  Object.assign(res, {
    destroy: () => {
      res.wasDestroyed = true;
      res.emit('close');
    },
  });
  return res as unknown as ServerResponse & { unsent: number; wasDestroyed: boolean };
}

describe('stalled answers - responses whose clients stopped reading', () => {
  it('closes a response holding a large answer unsent for the stall limit, and leaves slow readers, small answers and work in progress alone', () => {
    let now = 0;
    const watcher = watchStalledAnswers(() => now);
    const [parked, slow, small, working] = [fakeResponse(), fakeResponse(), fakeResponse(), fakeResponse()];
    for (const res of [parked, slow, small, working]) watcher.watch(res);
    parked.unsent = 20 * 1024 * 1024;
    slow.unsent = 20 * 1024 * 1024;
    small.unsent = STALLED_BYTES - 1;
    for (let t = 0; t <= STALL_LIMIT_MS + 10_000; t += 5_000) {
      now = t;
      slow.unsent -= 64 * 1024; // a slow reader: some progress every look
      watcher.sweep();
    }
    expect([parked.wasDestroyed, slow.wasDestroyed, small.wasDestroyed, working.wasDestroyed]).toEqual([true, false, false, false]);
    expect(watcher.destroyed()).toBe(1);
    // A response that grows while its client reads nothing (an event stream's keep-alives) stalls too.
    const stream = fakeResponse();
    watcher.watch(stream);
    const from = now;
    for (let t = from; t <= from + STALL_LIMIT_MS + 10_000; t += 5_000) {
      stream.unsent += STALLED_BYTES;
      now = t;
      watcher.sweep();
    }
    expect(stream.wasDestroyed).toBe(true);
    watcher.stop();
  });

  it('forgets a response once it closed', () => {
    let now = 0;
    const watcher = watchStalledAnswers(() => now);
    const res = fakeResponse();
    watcher.watch(res);
    res.unsent = 20 * 1024 * 1024;
    res.emit('close');
    now = 10 * STALL_LIMIT_MS;
    watcher.sweep();
    watcher.sweep();
    expect(res.wasDestroyed).toBe(false);
    watcher.stop();
  });
});
