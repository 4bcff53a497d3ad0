export { onShutdown, runMain, SHUTDOWN_SLACK_MS, EXIT_BAD_CONFIG } from './shutdown';
export type { ShutdownOptions } from './shutdown';
export { runServiceMain } from './service-main';
export type { ServiceContext, ServiceMainOptions } from './service-main';
export { startNatsServer, findNatsServer, NatsServerError, DEFAULT_MAX_PAYLOAD_BYTES } from './nats-server';
export type { NatsServerHandle, NatsServerOptions } from './nats-server';
export { startSupervised, RESTART_DELAY_MS, DEFAULT_MAX_RESTARTS, STOP_ON_STDIN_EOF } from './supervised-process';
export type { SupervisedOptions, SupervisedProcess } from './supervised-process';
export { tsNodeArgs } from './ts-runner';
