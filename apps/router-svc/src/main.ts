import { systemRandom, systemTime } from '@swarm/determinism';
import { runServiceMain } from '@swarm/runtime';
import { loadRouterConfig } from './config';
import { startRouterService } from './service';

runServiceMain({
  name: 'router-svc',
  loadConfig: loadRouterConfig,
  // Submits can be megabytes each; the router's own requests (reserve, execute acks, settle) get
  // their replies on a connection of their own, never behind a backlog of submits.
  outboundConnection: true,
  start: ({ config, log, nc, outboundNc, identity }) =>
    startRouterService({ config, log, nc, ...(outboundNc ? { outboundNc } : {}), nodeId: identity.nodeId, ...systemTime, random: systemRandom }),
});
