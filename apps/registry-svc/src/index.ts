// For whole-node tests (tools/e2e); the process entry point is main.ts.
export { startRegistryService } from './service';
export type { RegistryServiceDeps } from './service';
export { loadRegistryConfig, DEFAULT_RECORD_TTL_MS } from './config';
export type { RegistryConfig, RegistrySwarmConfig } from './config';
