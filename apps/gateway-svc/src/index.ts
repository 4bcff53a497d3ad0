// For whole-node tests (tools/e2e); the process entry point is main.ts.
export { startGatewayService, GATEWAY_VERSION } from './service';
export type { GatewayServiceDeps, GatewayServiceHandle } from './service';
export { loadGatewayConfig } from './config';
export type { GatewayConfig } from './config';
