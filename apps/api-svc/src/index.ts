// For whole-node tests (tools/e2e); the process entry point is main.ts.
export { startApiService } from './service';
export type { ApiService, ApiServiceDeps } from './service';
export { loadApiConfig, DEFAULT_HTTP_LISTEN } from './config';
export type { ApiConfig, ApiHttpConfig } from './config';
export { TOKEN_PREFIX } from './agent-token';
