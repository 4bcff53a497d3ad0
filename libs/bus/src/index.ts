export { SwarmError, isSwarmError } from '@swarm/contracts';
export { toWire, fromWire, INTERNAL_MESSAGE, MAX_ERROR_MESSAGE_CHARS } from './wire-error';
export {
  createBusClient,
  DEFAULT_REQUEST_TIMEOUT_MS,
  SWARM_ERROR_HEADER,
  DEADLINE_HEADER,
  ACK_HEADER,
  ACK_LIMIT_HEADER,
  ackDelayMs,
  MAX_ACK_DELAY_MS,
  MIN_ACK_LIMIT_TO_HOLD_MS,
  AckTimeoutError,
  transportFailureOf,
} from './bus-client';
export type { BusClient, RequestOptions, AckedRequestOptions } from './bus-client';
export { startBusService, DEFAULT_MAX_REQUEST_BYTES, EMPTY_REQUEST_MAX_BYTES } from './bus-service';
export type { BusService, BusServiceOptions, Handler, HandlerContext, ServeOptions } from './bus-service';
export { busConnectOptions } from './bus-connect';
