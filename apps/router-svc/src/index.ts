// For whole-node tests (tools/e2e); the process entry point is main.ts.
export { startRouterService, ROUTER_VERSION } from './service';
export type { RouterService, RouterServiceDeps } from './service';
export { loadRouterConfig } from './config';
export type { RouterConfig } from './config';
