import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { waitFor } from '@swarm/testing';
import { DEFAULT_STALL_LIMITS, watchStalledAnswers } from './stalled-answers';

const { stalledBytes: STALLED_BYTES, stallLimitMs: STALL_LIMIT_MS, minBytesPerSecond: MIN_RATE } = DEFAULT_STALL_LIMITS;
const MIB = 1024 * 1024;

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
  it('closes a response that has not sent a large answer in the time the least rate allows, and leaves readers, small answers and work in progress alone', () => {
    let now = 0;
    const watcher = watchStalledAnswers(() => now);
    const [parked, reader, small, working] = [fakeResponse(), fakeResponse(), fakeResponse(), fakeResponse()];
    for (const res of [parked, reader, small, working]) watcher.watch(res);
    parked.unsent = 20 * MIB; // 80 s at the least rate (256 KiB/s)
    reader.unsent = 20 * MIB;
    small.unsent = STALLED_BYTES - 1;
    const sweepTo = (until: number) => {
      for (; now <= until; now += 5_000) {
        reader.unsent = Math.max(0, reader.unsent - 5 * 2 * MIN_RATE); // twice the least rate
        watcher.sweep();
      }
    };
    sweepTo(75_000);
    expect([parked.wasDestroyed, reader.wasDestroyed]).toEqual([false, false]);
    sweepTo(90_000);
    expect([parked.wasDestroyed, reader.wasDestroyed, small.wasDestroyed, working.wasDestroyed]).toEqual([true, false, false, false]);
    expect(watcher.destroyed()).toBe(1);
    // A response that grows while its client reads nothing (an event stream's keep-alives) is closed after the least time.
    const stream = fakeResponse();
    watcher.watch(stream);
    const from = now;
    for (; now <= from + STALL_LIMIT_MS + 10_000; now += 5_000) {
      stream.unsent += STALLED_BYTES;
      watcher.sweep();
    }
    expect(stream.wasDestroyed).toBe(true);
    watcher.stop();
  });

  it('lets a client that reads take its large answer whole, and closes one that reads nothing (real sockets)', async () => {
    const watcher = watchStalledAnswers(undefined, { stalledBytes: 64 * 1024, stallLimitMs: 500, minBytesPerSecond: 16 * MIB, checkMs: 100 });
    // Larger than what loopback's socket buffers take in (several MiB), so a client that reads nothing holds it: 2 s at 16 MiB/s.
    const big = 'x'.repeat(32 * MIB);
    const server = createServer((_req, res) => {
      watcher.watch(res);
      res.end(big);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const sockets: Socket[] = [];
    const client = (reads: boolean) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
      sockets.push(socket);
      const seen = { got: 0, closed: false };
      socket.on('close', () => (seen.closed = true));
      if (reads) socket.on('data', (chunk: Buffer) => (seen.got += chunk.length));
      else socket.pause();
      return seen;
    };
    const reader = client(true);
    client(false);
    // The stalled one is closed about 2 s in; the reader has its answer well before.
    await waitFor(() => watcher.destroyed() === 1 && reader.got > 32 * MIB, { timeoutMs: 10_000, intervalMs: 100, what: 'the stalled answer closed and the read one whole' });
    expect(watcher.destroyed()).toBe(1);
    expect(reader.closed).toBe(false);
    expect(reader.got).toBeGreaterThan(32 * MIB);
    for (const socket of sockets) socket.destroy();
    watcher.stop();
    await new Promise<void>((r) => server.close(() => r()));
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
