export { connectSwarm, NodeUnreachableError, CONNECT_TIMEOUT_MS, DEFAULT_SUBMIT_TIMEOUT_MS } from './swarm-client';
export type { SwarmClient } from './swarm-client';
