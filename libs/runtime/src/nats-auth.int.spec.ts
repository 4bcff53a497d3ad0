import { busConnectOptions } from '@swarm/bus';
import type { BusRole } from '@swarm/contracts';
import { BUS_PERMISSIONS, EXECUTOR_QUEUE, inboxPrefixOf } from '@swarm/contracts';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { prepareClosedBus, renderAuthorization } from './nats-auth';
import type { NatsServerHandle } from './nats-server';
import { startNatsServer } from './nats-server';

jest.setTimeout(30_000);

describe('nats auth - rendering', () => {
  it('refuses anything that is not a public user NKey', () => {
    expect(() => renderAuthorization([{ nkey: 'not-a-key", admin: true', permissions: BUS_PERMISSIONS.client }])).toThrow(RangeError);
  });

  it("gives services their replies as publish rights on the askers' inboxes, never allow_responses (whose kept reply subjects nats-server walks at every request past 4,096)", () => {
    const text = renderAuthorization([{ nkey: `U${'A'.repeat(55)}`, permissions: BUS_PERMISSIONS.executor }]);
    expect(text).not.toMatch(/allow_responses/);
    expect(text).toContain(`"${inboxPrefixOf('router')}.>"`);
  });
});

describe('nats auth - the role table enforced by a real nats-server', () => {
  let dir: TempDir;
  let server: NatsServerHandle;
  const conns = new Map<BusRole, NatsConnection>();
  /** Per connection, the subjects the server refused it to publish to. */
  const deniedPublishes = new Map<BusRole, Set<string>>();
  let seedFile: (role: BusRole) => string;

  beforeAll(async () => {
    dir = await tempDir('swarm-auth-');
    const bus = await prepareClosedBus(dir.path);
    seedFile = bus.seedFile;
    server = await startNatsServer({ authorization: bus.authorization });
    for (const role of ['client', 'router', 'executor', 'credit', 'observer'] as const) {
      const nc = await connect({ servers: server.url, ...(await busConnectOptions(role, bus.seedFile(role))) });
      conns.set(role, nc);
      const denied = new Set<string>();
      deniedPublishes.set(role, denied);
      void (async () => {
        for await (const s of nc.status()) {
          const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
          if (ctx?.operation === 'publish') denied.add(ctx.subject);
        }
      })();
    }
  });
  afterAll(async () => {
    for (const c of conns.values()) await c.close();
    await server?.stop();
    await dir?.remove();
  });

  /**
   * 'allowed' when the server took the publish, else 'denied' (its permissions violation names the
   * subject: deniedPublishes). A plain publish, not a request: an executor has no inbox of its own.
   */
  async function publishAs(role: BusRole, subject: string): Promise<'allowed' | 'denied'> {
    const nc = conns.get(role) as NatsConnection;
    nc.publish(subject, new Uint8Array());
    // Two round trips: the server has refused the publish (-ERR) by the time the second PONG comes.
    await nc.flush();
    await nc.flush();
    return deniedPublishes.get(role)?.has(subject) ? 'denied' : 'allowed';
  }

  async function subscribeAs(role: BusRole, subject: string, queue?: string): Promise<'allowed' | 'denied'> {
    const nc = conns.get(role) as NatsConnection;
    let refused = false;
    const sub = nc.subscribe(subject, { ...(queue ? { queue } : {}), callback: (err) => (refused ||= err !== null) });
    // A round trip after the SUB: the server has processed it (and sent -ERR) by the time PONG comes.
    await nc.flush();
    await nc.flush();
    if (!sub.isClosed()) sub.unsubscribe();
    return refused ? 'denied' : 'allowed';
  }

  it('keeps the bus keys in a 0700 directory as 0600 files', async () => {
    expect((await stat(join(dir.path, 'bus'))).mode & 0o777).toBe(0o700);
    expect((await stat(seedFile('router'))).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['client', 'swarm.v1.router.submit', 'allowed'],
    ['client', 'swarm.v1.credit.balance', 'allowed'],
    ['client', 'swarm.v1.executor.skills', 'allowed'],
    ['client', 'swarm.v1.credit.health', 'allowed'],
    ['client', '$SRV.PING.executor-svc', 'denied'],
    ['observer', '$SRV.PING.executor-svc', 'allowed'],
    ['client', 'swarm.v1.credit.reserve', 'denied'],
    ['client', 'swarm.v1.credit.settle', 'denied'],
    ['client', 'swarm.v1.credit.refund', 'denied'],
    ['client', 'swarm.v1.executor.execute', 'denied'],
    ['client', 'swarm.v1.registry.providers', 'denied'],
    ['client', 'swarm.v1.events.ledger.entry', 'denied'],
    ['router', 'swarm.v1.credit.reserve', 'allowed'],
    ['router', 'swarm.v1.credit.settle', 'allowed'],
    ['router', 'swarm.v1.executor.execute', 'allowed'],
    ['router', 'swarm.v1.registry.providers', 'allowed'],
    ['router', 'swarm.v1.events.ledger.entry', 'denied'],
    ['executor', 'swarm.v1.credit.settle', 'denied'],
    ['executor', 'swarm.v1.router.submit', 'denied'],
    ['observer', 'swarm.v1.credit.settle', 'denied'],
    ['observer', 'swarm.v1.router.submit', 'denied'],
    // Operators read the voids their payees countersigned and the peers they know; clients do not read voids.
    ['observer', 'swarm.v1.credit.paid-voids', 'allowed'],
    ['observer', 'swarm.v1.registry.peers', 'allowed'],
    ['client', 'swarm.v1.credit.paid-voids', 'denied'],
    ['credit', 'swarm.v1.gateway.void-receipts', 'allowed'],
    // credit-svc reads payers' and payees' chains and proves to the router a broken void, or a payer's fork; nothing else of it.
    ['credit', 'swarm.v1.gateway.fetch-chain', 'allowed'],
    ['credit', 'swarm.v1.router.report-void-breach', 'allowed'],
    ['credit', 'swarm.v1.router.report-fork', 'allowed'],
    ['credit', 'swarm.v1.router.trust', 'denied'],
    // Its sightings of payers' chains go to the DHT through registry-svc; none but credit-svc stores one.
    ['credit', 'swarm.v1.registry.publish-sighting', 'allowed'],
    ['credit', 'swarm.v1.registry.find-sightings', 'allowed'],
    ['credit', 'swarm.v1.registry.providers', 'denied'],
    ['router', 'swarm.v1.registry.publish-sighting', 'denied'],
    ['executor', 'swarm.v1.registry.find-sightings', 'denied'],
    ['credit', 'swarm.v1.router.submit', 'denied'],
    ['client', 'swarm.v1.router.report-void-breach', 'denied'],
    ['router', 'swarm.v1.credit.accept-void', 'denied'],
    // Replies: only into the inboxes of the roles that may ask the service something.
    ['router', `${inboxPrefixOf('client')}.x.y`, 'allowed'],
    ['executor', `${inboxPrefixOf('router')}.x.y`, 'allowed'],
    ['credit', `${inboxPrefixOf('router')}.x.y`, 'allowed'],
    ['router', `${inboxPrefixOf('registry')}.x.y`, 'denied'],
    ['executor', `${inboxPrefixOf('credit')}.x.y`, 'denied'],
    ['credit', '_INBOX.x.y', 'denied'],
    ['credit', 'some.subject.a.requester.names', 'denied'],
    ['client', `${inboxPrefixOf('router')}.x.y`, 'denied'],
  ] as const)('publish: %s -> %s is %s', async (role, subject, expected) => {
    expect(await publishAs(role, subject)).toBe(expected);
  });

  it.each([
    ['executor', 'swarm.v1.executor.execute', EXECUTOR_QUEUE, 'allowed'],
    ['executor', 'swarm.v1.executor.execute', undefined, 'denied'],
    ['executor', 'swarm.v1.executor.execute', 'rogue', 'denied'],
    ['credit', 'swarm.v1.credit.settle', 'q', 'allowed'],
    ['credit', '$SRV.PING.credit-svc', undefined, 'allowed'],
    ['credit', '$SRV.PING.router-svc', undefined, 'denied'],
    ['router', 'swarm.v1.router.submit', 'q', 'allowed'],
    ['router', `${inboxPrefixOf('router')}.x`, undefined, 'allowed'],
    ['router', `${inboxPrefixOf('client')}.x`, undefined, 'denied'],
    ['client', 'swarm.v1.router.submit', 'q', 'denied'],
    ['client', 'swarm.v1.executor.execute', EXECUTOR_QUEUE, 'denied'],
    ['client', 'swarm.v1.events.ledger.entry', undefined, 'denied'],
    ['client', '_INBOX.>', undefined, 'denied'],
    ['observer', 'swarm.v1.events.ledger.entry', undefined, 'allowed'],
    ['observer', 'swarm.v1.credit.settle', undefined, 'denied'],
  ] as const)('subscribe: %s -> %s (queue %s) is %s', async (role, subject, queue, expected) => {
    expect(await subscribeAs(role, subject, queue)).toBe(expected);
  });
});
