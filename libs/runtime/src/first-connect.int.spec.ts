import { silentLogger } from '@swarm/telemetry';
import { createServer } from 'node:net';
import { BusUnreachableError, connectWithRetry } from './first-connect';
import { startNatsServer } from './nats-server';
import { renderAuthorization } from './nats-auth';
import { BUS_PERMISSIONS } from '@swarm/contracts';
import { nkeys as untypedNkeys } from 'nats';

jest.setTimeout(30_000);

/** nats re-exports nkeys.js typed as `any`: the one call used here, typed. */
const nkeys = untypedNkeys as { createUser(): { getPublicKey(): string } };

/** A loopback port nobody listens on (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('first connection to the bus', () => {
  it('waits for a bus that comes up after the service', async () => {
    const port = await freePort();
    const connecting = connectWithRetry({ servers: `nats://127.0.0.1:${port}` }, 10_000, silentLogger());
    await new Promise((r) => setTimeout(r, 600)); // the service is already retrying
    const server = await startNatsServer({ port });
    try {
      const nc = await connecting;
      await nc.close();
    } finally {
      await server.stop();
    }
  });

  it('gives up after its timeout with SWARM_NO_NODE', async () => {
    const port = await freePort();
    const started = Date.now();
    await expect(connectWithRetry({ servers: `nats://127.0.0.1:${port}` }, 700, silentLogger())).rejects.toBeInstanceOf(BusUnreachableError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails at once when the bus refuses the key', async () => {
    const user = nkeys.createUser();
    const server = await startNatsServer({ authorization: renderAuthorization([{ nkey: user.getPublicKey(), permissions: BUS_PERMISSIONS.client }]) });
    try {
      const started = Date.now();
      await expect(connectWithRetry({ servers: server.url }, 20_000, silentLogger())).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await server.stop();
    }
  });
});
