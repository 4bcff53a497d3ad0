import { runServiceMain } from '@swarm/runtime';
import { loadApiConfig } from './config';
import { startApiService } from './service';

runServiceMain({
  name: 'api-svc',
  loadConfig: loadApiConfig,
  start: ({ config, log, nc, identity }) => startApiService({ config, log, nc, nodeId: identity.nodeId }),
});
