/**
 * Attacks on what gateway-svc looks up: helper-170's on the scope it reads from the name it
 * advertises (service.ts, dht-gateway scopeOfAdvertised: read off the first address its resolver
 * gave, a public node took itself for loopback), and records naming names that never resolve (each
 * held a libuv thread and its task until the resolver gave up; bounded-resolver.ts). The resolver
 * is node's, answered here by a stand-in for those names; all else is real. (A failed lookup kept as
 * the scope: claimed-address.spec, ownScopeReader.)
 */
import type { LookupAllOptions } from 'node:dns';
import type * as Dns from 'node:dns/promises';

/** Lookups of names under slow.example: started, and not yet answered (they never are). */
const slowLookups = { started: 0 };

jest.mock('node:dns/promises', () => {
  const actual = jest.requireActual<typeof Dns>('node:dns/promises');
  return {
    ...actual,
    lookup: async (host: string, opts?: unknown) => {
      if (host.endsWith('.slow.example')) {
        slowLookups.started += 1;
        return new Promise(() => undefined);
      }
      // A node's own name that never resolves (not counted with the peers' names above).
      if (host.endsWith('.stalled.example')) return new Promise(() => undefined);
      // A public node whose hosts file maps its FQDN to 127.0.1.1 (Debian / cloud-init), then its public address.
      if (host === 'node1.example.org')
        return [
          { address: '127.0.1.1', family: 4 },
          { address: '198.51.100.7', family: 4 },
        ];
      return actual.lookup(host, opts as LookupAllOptions);
    },
  };
});

import type { BusClient } from '@swarm/bus';
import { createBusClient } from '@swarm/bus';
import type { ExecuteRequest } from '@swarm/contracts';
import { ErrorCode, GatewayExecute, toTensor } from '@swarm/contracts';
import { systemTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import { startNatsServer, startSilentServer, swarmErrorOf, tempDir } from '@swarm/testing';
import { connect } from 'nats';
import { loadGatewayConfig } from './config';
import { startGatewayService } from './service';

const PEER = 'ab'.repeat(32);

async function startNode(advertise: string, env: Record<string, string> = {}) {
  const nats = await startNatsServer();
  const home = await tempDir('swarm-scope-attack-');
  const nc = await connect({ servers: nats.url });
  const config = loadGatewayConfig({ SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: home.path, SWARM_POW_DIFFICULTY: '8', SWARM_GATEWAY_ADVERTISE: advertise, ...env });
  const gateway = await startGatewayService({ config, log: silentLogger(), nc, time: systemTime });
  const bus: BusClient = createBusClient(nc, silentLogger());
  return {
    bus,
    async stop() {
      await gateway.stop();
      await nc.close();
      await nats.stop();
      await home.remove();
    },
  };
}

const vecadd = (taskId: string): ExecuteRequest => ({
  taskId,
  skill: 'vecadd',
  inputs: [toTensor('a', [1], Float32Array.of(1)), toTensor('b', [1], Float32Array.of(2))],
  timeoutMs: 1_000,
});

describe('gateway-svc - the scope it reads from the name it advertises (helper-170)', () => {
  it('a public node (node1.example.org -> 127.0.1.1, 198.51.100.7) refuses a record naming its own loopback, connecting nothing', async () => {
    const node = await startNode('node1.example.org:7400');
    const listener = await startSilentServer(); // stands in for this machine's NATS on 127.0.0.1:4222
    try {
      const err = await swarmErrorOf(node.bus.request(GatewayExecute, { peer: `${PEER}@127.0.0.1:${listener.port}`, task: vecadd('t-loop') }, { timeoutMs: 15_000 }));
      expect({ code: err.code, message: err.message, connections: listener.connections() }).toEqual({
        code: ErrorCode.ERROR_CODE_UNAVAILABLE,
        message: expect.stringContaining('a loopback address, named by a node that is not on this machine'),
        connections: 0,
      });
    } finally {
      await listener.close();
      await node.stop();
    }
  }, 30_000);

  it('holds to the scope its operator sets (SWARM_GATEWAY_SCOPE) whatever its name and listen address read', async () => {
    const listener = await startSilentServer();
    const peer = `${PEER}@127.0.0.1:${listener.port}`;
    // On loopback, told it is public (split-horizon DNS the other way round): a record naming loopback is refused, nothing connected.
    const toldPublic = await startNode('127.0.0.1:7400', { SWARM_GATEWAY_SCOPE: 'public' });
    try {
      const err = await swarmErrorOf(toldPublic.bus.request(GatewayExecute, { peer, task: vecadd('t-told-public') }, { timeoutMs: 15_000 }));
      expect({ code: err.code, message: err.message, connections: listener.connections() }).toEqual({
        code: ErrorCode.ERROR_CODE_UNAVAILABLE,
        message: expect.stringContaining('a loopback address, named by a node that is not on this machine'),
        connections: 0,
      });
    } finally {
      await toldPublic.stop();
    }
    // Read public (node1.example.org's one address past 127.0.1.1), told loopback: the same record is dialled.
    const toldLoopback = await startNode('node1.example.org:7400', { SWARM_GATEWAY_SCOPE: 'loopback' });
    try {
      await swarmErrorOf(toldLoopback.bus.request(GatewayExecute, { peer, task: vecadd('t-told-loopback') }, { timeoutMs: 15_000 }));
      expect(listener.connections()).toBeGreaterThan(0);
    } finally {
      await listener.close();
      await toldLoopback.stop();
    }
  }, 30_000);

  it('answers tasks naming twenty names that never resolve within its 3 s wait, with at most two lookups held', async () => {
    const node = await startNode('127.0.0.1:7400');
    try {
      const started = Date.now();
      const errors = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          swarmErrorOf(node.bus.request(GatewayExecute, { peer: `${PEER}@n${i}.slow.example:7400`, task: vecadd(`t-slow-${i}`) }, { timeoutMs: 15_000 })),
        ),
      );
      const tookMs = Date.now() - started;
      expect(errors.map((e) => e.code)).toEqual(Array.from({ length: 20 }, () => ErrorCode.ERROR_CODE_UNAVAILABLE));
      for (const e of errors) expect(e.message).toMatch(/took over 3000 ms|no turn to look up|too many names are being looked up/);
      expect({ held: slowLookups.started, answeredWithinMs: tookMs < 10_000 }).toEqual({ held: 2, answeredWithinMs: true });
      // Asked again at once: a name whose lookup still runs has no caller wait on it again.
      const running = errors.findIndex((e) => e.message.includes('took over 3000 ms'));
      const again = Date.now();
      const err = await swarmErrorOf(node.bus.request(GatewayExecute, { peer: `${PEER}@n${running}.slow.example:7400`, task: vecadd('t-slow-again') }, { timeoutMs: 15_000 }));
      expect({ message: err.message, fast: Date.now() - again < 2_000, held: slowLookups.started }).toEqual({
        message: expect.stringContaining(`the lookup of n${running}.slow.example is taking over 3000 ms`),
        fast: true,
        held: 2,
      });
    } finally {
      await node.stop();
    }
  }, 30_000);
});

describe('gateway-svc - its own name, read when it starts', () => {
  it("does not hold a first dial long after its start for the lookup of its own name (it waited that lookup, 3 s, then the peer's)", async () => {
    const node = await startNode('self.stalled.example:7400');
    const listener = await startSilentServer();
    try {
      // Its own name's lookup gives up meanwhile (3 s): read public.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      const started = Date.now();
      const err = await swarmErrorOf(node.bus.request(GatewayExecute, { peer: `${PEER}@127.0.0.1:${listener.port}`, task: vecadd('t-first') }, { timeoutMs: 15_000 }));
      expect({ message: err.message, fast: Date.now() - started < 1_500, connections: listener.connections() }).toEqual({
        message: expect.stringContaining('a loopback address, named by a node that is not on this machine'),
        fast: true,
        connections: 0,
      });
    } finally {
      await listener.close();
      await node.stop();
    }
  }, 30_000);
});
