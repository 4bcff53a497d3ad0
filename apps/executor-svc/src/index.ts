export { startExecutorService, executorIdOf, EXECUTOR_VERSION } from './service';
export type { ExecutorService, ExecutorServiceDeps } from './service';
export { loadExecutorConfig, DEFAULT_MAX_QUEUE, DEFAULT_MAX_ELEMENTS, DEFAULT_MAX_TIMEOUT_MS, DEFAULT_EXECUTE_TIMEOUT_MS, MAX_REQUEST_BYTES } from './config';
export type { ExecutorConfig } from './config';
