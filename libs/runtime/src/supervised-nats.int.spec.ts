import { connect, Events } from 'nats';
import { waitFor } from '@swarm/testing';
import type { NatsSupervisionEvent } from './supervised-nats';
import { startSupervisedNats } from './supervised-nats';

jest.setTimeout(30_000);

describe('supervised nats-server', () => {
  it('comes back on the same port after kill -9, and a client reconnects to it', async () => {
    const events: NatsSupervisionEvent[] = [];
    const nats = await startSupervisedNats({ onEvent: (e) => events.push(e) });
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    try {
      nc.subscribe('echo', { callback: (_e, m) => m.respond(m.data) });
      const firstPid = nats.pid();
      let reconnected = false;
      void (async () => {
        for await (const s of nc.status()) if (s.type === Events.Reconnect) reconnected = true;
      })();
      process.kill(firstPid, 'SIGKILL');
      await waitFor(() => nats.restarts() === 1 && !nats.down(), { timeoutMs: 10_000, what: 'nats-server restarted' });
      expect(nats.pid()).not.toBe(firstPid);
      await waitFor(() => reconnected, { timeoutMs: 10_000, what: 'client reconnected' });
      const reply = await nc.request('echo', new TextEncoder().encode('hi'), { timeout: 2_000 });
      expect(new TextDecoder().decode(reply.data)).toBe('hi');
      expect(events.map((e) => e.kind)).toEqual(['exited', 'restarted']);
    } finally {
      await nc.close();
      await nats.stop();
    }
  });

  it('stops for good on stop(): no restart after it', async () => {
    const nats = await startSupervisedNats({});
    const pid = nats.pid();
    await nats.stop();
    await new Promise((r) => setTimeout(r, 500));
    expect(nats.restarts()).toBe(0);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
