export { ConfigError, loadEnv, envVar, intVar, numberVar, bigintVar, stringVar, optionalStringVar, enumVar, booleanVar } from './env-schema';
export type { Env, EnvVar } from './env-schema';
export { SERVICE_VARS, DEFAULT_GRACE_MS, DEFAULT_TRACE_SAMPLE_RATIO, LOG_LEVELS, loadServiceConfig, toServiceConfig } from './service-config';
export type { ServiceConfig, LogLevel } from './service-config';
export { CHAIN_VARS } from './chain-vars';
export { parseHostPort, formatHostPort, isWildcardHost } from './host-port';
export type { HostPort } from './host-port';
