export { connectSwarm, NodeUnreachableError, BusAccessError, CONNECT_TIMEOUT_MS, DEFAULT_SUBMIT_TIMEOUT_MS } from './swarm-client';
export type { SwarmClient, ConnectOptions } from './swarm-client';
