import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { waitFor } from '@swarm/testing';
import type { NatsSupervisionEvent } from './supervised-nats';
import { NATS_RESTART_MIN_MS, startSupervisedNats } from './supervised-nats';

jest.setTimeout(60_000);

/** Generous: the machine running the suite may be busy; these bound a hang, not a speed. */
const WAIT_MS = 30_000;

describe('supervised nats-server - outages', () => {
  it('reports a restart that fails while its port is held, keeps trying, and comes back once the port is free', async () => {
    const events: NatsSupervisionEvent[] = [];
    let squatter: Server | undefined;
    const nats = await startSupervisedNats({
      onEvent: (e) => {
        events.push(e);
        // Taken synchronously (an IP literal binds inside listen()), before the first restart.
        if (e.kind === 'exited') squatter = createServer().listen(nats.port, '127.0.0.1');
      },
    });
    try {
      process.kill(nats.pid(), 'SIGKILL');
      await waitFor(() => events.filter((e) => e.kind === 'restart-failed').length >= 2, { timeoutMs: WAIT_MS, what: 'two failed restarts' });
      expect(nats.down()).toBe(true);
      const failed = events.filter((e): e is Extract<NatsSupervisionEvent, { kind: 'restart-failed' }> => e.kind === 'restart-failed');
      // Backing off: each retry waits longer than the one before.
      expect(failed[0]?.retryInMs).toBe(NATS_RESTART_MIN_MS * 2);
      expect(failed[1]?.retryInMs).toBe(NATS_RESTART_MIN_MS * 4);
      await new Promise<void>((r) => squatter?.close(() => r()));
      await waitFor(() => !nats.down(), { timeoutMs: WAIT_MS, what: 'nats-server back' });
      expect(events[0]?.kind).toBe('exited');
      expect(events.at(-1)).toMatchObject({ kind: 'restarted', restarts: 1, pid: nats.pid() });
    } finally {
      squatter?.close();
      await nats.stop();
    }
  });

  it('starts nothing more when stopped during the pause before a restart', async () => {
    const events: NatsSupervisionEvent[] = [];
    let stopped: Promise<void> | undefined;
    const nats = await startSupervisedNats({
      onEvent: (e) => {
        events.push(e);
        if (e.kind === 'exited') stopped = nats.stop();
      },
    });
    process.kill(nats.pid(), 'SIGKILL');
    await waitFor(() => stopped !== undefined, { timeoutMs: WAIT_MS, what: 'stop() during the outage' });
    await stopped;
    // A restart would have come after NATS_RESTART_MIN_MS; wait well past it.
    await new Promise((r) => setTimeout(r, NATS_RESTART_MIN_MS * 5));
    expect(events.map((e) => e.kind)).toEqual(['exited']);
    expect(nats.restarts()).toBe(0);
  });
});
