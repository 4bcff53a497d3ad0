import { systemClock, systemRandom } from '@swarm/determinism';
import { runServiceMain } from '@swarm/runtime';
import { loadRouterConfig } from './config';
import { startRouterService } from './service';

runServiceMain({
  name: 'router-svc',
  loadConfig: loadRouterConfig,
  start: ({ config, log, nc, identity }) =>
    startRouterService({ config, log, nc, nodeId: identity.nodeId, clock: systemClock, random: systemRandom }),
});
