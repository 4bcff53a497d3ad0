import { availableParallelism } from 'node:os';
import { runServiceMain } from '@swarm/runtime';
import { loadExecutorConfig } from './config';
import { startExecutorService } from './service';

runServiceMain({
  name: 'executor-svc',
  loadConfig: (env) => loadExecutorConfig(env, availableParallelism()),
  start: ({ config, log, nc, identity }) => startExecutorService({ config, log, nc, nodeId: identity.nodeId }),
});
