// Process only: env, signals, exit code (the shared body lives in @swarm/runtime's runServiceMain).
import { systemTime } from '@swarm/determinism';
import { runServiceMain } from '@swarm/runtime';
import { loadCreditConfig } from './config';
import { SERVICE_NAME, startCreditService } from './service';

runServiceMain({
  name: SERVICE_NAME,
  loadConfig: loadCreditConfig,
  start: ({ config, log, nc, identity }) => startCreditService({ config, log, nc, nodeId: identity.nodeId, signer: identity, ...systemTime }),
});
