export { startNatsServer } from '@swarm/runtime';
export type { NatsServerHandle } from '@swarm/runtime';
export { tempDir } from './temp-dir';
export type { TempDir } from './temp-dir';
export { waitFor, countdown } from './wait-for';
export type { WaitForOptions } from './wait-for';
export { spawnService } from './service-process';
export type { ServiceProcess } from './service-process';
