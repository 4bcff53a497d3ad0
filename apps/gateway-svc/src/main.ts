import { loadServiceConfig } from '@swarm/config';
import { runServiceMain } from '@swarm/runtime';
import { startGatewayService } from './service';

runServiceMain({
  name: 'gateway-svc',
  loadConfig: loadServiceConfig,
  start: ({ config, log, nc, identity }) => startGatewayService({ config, log, nc, nodeId: identity.nodeId }),
});
