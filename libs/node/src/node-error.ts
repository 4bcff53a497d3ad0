/** A node that cannot start or be claimed; `code` is one of docs/errors.md's SWARM_* codes. */
export class NodeError extends Error {
  constructor(
    readonly code: 'SWARM_NODE_RUNNING' | 'SWARM_NATS_SERVER' | 'SWARM_START_FAILED' | 'SWARM_BAD_CONFIG',
    message: string,
  ) {
    super(message);
    this.name = 'NodeError';
  }
}
