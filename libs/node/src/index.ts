export { startNode, nodeStopGraceMs, SERVICE_START_TIMEOUT_MS, SERVICE_STOP_GRACE_MS } from './start-node';
export type { NodeOptions, NodeEvent, RunningNode } from './start-node';
export { NODE_SERVICES } from './node-services';
export type { NodeService, NodeServiceApp } from './node-services';
export { createSupervisionRecord } from './supervision';
export type { ProcessSupervision, SupervisionReport, SupervisionRecord, SupervisedExit } from './supervision';
export { NODE_FILE, resolveHome, readNodeFile, writeNodeFile, claimNodeFile, removeNodeFile, isAlive } from './node-file';
export type { NodeFile } from './node-file';
export { NodeError } from './node-error';
