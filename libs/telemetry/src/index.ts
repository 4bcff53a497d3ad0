export { createLogger, silentLogger, capForLog, MAX_LOG_STRING_CHARS, MAX_LOG_LINE_CHARS } from './logger';
export type { Logger, LoggerOptions } from './logger';
export { injectTraceContext, extractTraceContext, isTracing, isSampled, startChildSpan, inChildSpan, NO_TRACE, NOT_RECORDED } from './trace-carrier';
export type { HeaderCarrier, TraceContext } from './trace-carrier';
export { ExplicitContextManager } from './explicit-context';
export { startTelemetry, DEFAULT_SAMPLE_RATIO } from './telemetry';
export type { TelemetryOptions, TelemetryHandle } from './telemetry';
