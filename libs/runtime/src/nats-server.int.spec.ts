import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'nats';
import { startNatsServer } from './nats-server';

jest.setTimeout(15_000);

describe('nats-server launcher', () => {
  it('removes its config file once the server listens, so a launcher killed with SIGKILL leaves none behind', async () => {
    const server = await startNatsServer({ maxPayloadBytes: 1024 * 1024 });
    try {
      const args = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0');
      const conf = args[args.indexOf('-c') + 1];
      expect(conf).toMatch(/swarm-nats-[^/]+\/nats\.conf$/);
      expect(existsSync(conf)).toBe(false);
      // The server runs on what it read: it serves, with the payload limit the file gave it.
      const nc = await connect({ servers: server.url });
      expect(nc.info?.max_payload).toBe(1024 * 1024);
      await nc.close();
    } finally {
      await server.stop();
    }
  });
});
