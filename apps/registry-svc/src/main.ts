import { loadServiceConfig } from '@swarm/config';
import { runServiceMain } from '@swarm/runtime';
import { startRegistryService } from './service';

runServiceMain({
  name: 'registry-svc',
  loadConfig: loadServiceConfig,
  start: ({ config, log, nc, identity }) => startRegistryService({ config, log, nc, nodeId: identity.nodeId }),
});
