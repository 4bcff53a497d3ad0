// For in-process composition (whole-node tests, benchmarks); the process itself starts in main.ts.
export { startCreditService, SERVICE_NAME, SERVICE_VERSION, MAX_CREDIT_REQUEST_BYTES } from './service';
export type { CreditService, CreditServiceDeps } from './service';
export { loadCreditConfig, CREDIT_VARS, DEFAULT_GENESIS_GRANT, LEDGER_DIR } from './config';
export type { CreditConfig } from './config';
