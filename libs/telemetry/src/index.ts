export { createLogger, silentLogger, capForLog, MAX_LOG_STRING_CHARS, MAX_LOG_LINE_CHARS } from './logger';
export type { Logger, LoggerOptions } from './logger';
export { injectTraceContext, extractTraceContext, isTracing, isSampled } from './trace-carrier';
export type { HeaderCarrier } from './trace-carrier';
export { startTelemetry, DEFAULT_SAMPLE_RATIO } from './telemetry';
export type { TelemetryOptions, TelemetryHandle } from './telemetry';
