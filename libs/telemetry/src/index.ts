export { createLogger, silentLogger } from './logger';
export type { Logger, LoggerOptions } from './logger';
export { injectTraceContext, extractTraceContext } from './trace-carrier';
export type { HeaderCarrier } from './trace-carrier';
export { startTelemetry } from './telemetry';
export type { TelemetryOptions, TelemetryHandle } from './telemetry';
