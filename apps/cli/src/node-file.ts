/**
 * Where a running node is found and which bus key a command connects with: the SDK's node
 * discovery (@swarm/client node-discovery.ts), so the CLI and any program find a node the same way
 * (`--nats`, SWARM_NATS_URL, then the node.json in SWARM_HOME; `--node i` for node i of a swarm).
 */
export { connectToNode, resolveApiUrl, resolveBusKey, resolveNatsUrl, resolveNodeHome } from '@swarm/client';
export type { NodeTarget } from '@swarm/client';
