// For whole-node tests (tools/e2e); the process entry point is main.ts.
export { startGatewayService } from './service';
export type { GatewayServiceDeps } from './service';
