import { availableParallelism } from 'node:os';
import { runServiceMain } from '@swarm/runtime';
import { loadRegistryConfig } from './config';
import { startRegistryService } from './service';

runServiceMain({
  name: 'registry-svc',
  loadConfig: (env) => loadRegistryConfig(env, availableParallelism()),
  start: ({ config, log, nc, identity }) => startRegistryService({ config, log, nc, nodeId: identity.nodeId }),
});
