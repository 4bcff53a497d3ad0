export { onShutdown, runMain } from './shutdown';
export type { ShutdownOptions } from './shutdown';
export { startNatsServer, findNatsServer, NatsServerError, DEFAULT_MAX_PAYLOAD_BYTES } from './nats-server';
export type { NatsServerHandle, NatsServerOptions } from './nats-server';
