/**
 * helper-170's attack on the scope gateway-svc reads from the name it advertises (service.ts, dht-gateway
 * scopeOfAdvertised): read off the first address its resolver gave, a public node took itself for
 * loopback. The resolver is node's, answered here by a stand-in for one name; all else is real. (A
 * failed lookup kept as the scope: claimed-address.spec, ownScopeReader.)
 */
import type { LookupAllOptions } from 'node:dns';
import type * as Dns from 'node:dns/promises';

jest.mock('node:dns/promises', () => {
  const actual = jest.requireActual<typeof Dns>('node:dns/promises');
  return {
    ...actual,
    lookup: async (host: string, opts?: unknown) => {
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

async function startNode(advertise: string) {
  const nats = await startNatsServer();
  const home = await tempDir('swarm-scope-attack-');
  const nc = await connect({ servers: nats.url });
  const config = loadGatewayConfig({ SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: home.path, SWARM_POW_DIFFICULTY: '8', SWARM_GATEWAY_ADVERTISE: advertise });
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
});
