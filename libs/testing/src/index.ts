export { startNatsServer } from '@swarm/runtime';
export type { NatsServerHandle } from '@swarm/runtime';
export { tempDir } from './temp-dir';
export type { TempDir } from './temp-dir';
export { waitFor, countdown } from './wait-for';
export type { WaitForOptions } from './wait-for';
export { spawnService } from './service-process';
export type { ServiceProcess } from './service-process';
export { spawnSwarmNode } from './swarm-node-process';
export type { SwarmNodeProcess, SwarmNodeOptions } from './swarm-node-process';
export { ledgerStoreCompliance } from './ledger-compliance';
export { swarmErrorOf, swarmErrorThrownBy } from './swarm-error-of';
export type { LedgerStoreHarness } from './ledger-compliance';
/** Whether a process with this pid still exists (the launcher's own check). */
export { isAlive } from '@swarm/node';
export { grpcFrame, rawGrpcCall } from './raw-grpc';
export { startFakeExecutor } from './fake-executor';
export type { FakeExecutor, FakeExecutorMode } from './fake-executor';
