import { ErrorCode } from './gen/swarm/v1/common';

/** Short stable name shown to people: ERROR_CODE_INSUFFICIENT_CREDIT -> SWARM_INSUFFICIENT_CREDIT. */
export function errorCodeName(code: ErrorCode): string {
  const name = ErrorCode[code] as string | undefined;
  if (name === undefined || code === ErrorCode.UNRECOGNIZED) return 'SWARM_UNKNOWN_ERROR';
  return name.replace(/^ERROR_CODE_/, 'SWARM_');
}

/** Every real code (not UNSPECIFIED/UNRECOGNIZED), in numeric order. */
export const ALL_ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode)
  .filter((v): v is ErrorCode => typeof v === 'number' && v > 0)
  .sort((a, b) => a - b);

/** Codes that describe a bad request (the caller must change it), as opposed to a node fault. */
const CLIENT_CODES = new Set<ErrorCode>([
  ErrorCode.ERROR_CODE_MALFORMED_MESSAGE,
  ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
  ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
  ErrorCode.ERROR_CODE_UNKNOWN_SKILL,
  ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
  ErrorCode.ERROR_CODE_BUDGET_TOO_LOW,
  ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT,
  ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND,
  ErrorCode.ERROR_CODE_ESCROW_CLOSED,
  ErrorCode.ERROR_CODE_ESCROW_CONFLICT,
  // The key names a task that already ended: the caller must use a new key to run it again.
  ErrorCode.ERROR_CODE_TASK_RESULT_GONE,
  ErrorCode.ERROR_CODE_TASK_REFUNDED,
]);

/** HTTP-like status for the NATS services framework's Nats-Service-Error-Code header. */
export function serviceStatusOf(code: ErrorCode): number {
  if (code === ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE) return 413;
  if (code === ErrorCode.ERROR_CODE_PERMISSION_DENIED) return 403;
  if (code === ErrorCode.ERROR_CODE_TASK_RESULT_GONE || code === ErrorCode.ERROR_CODE_TASK_REFUNDED) return 409;
  if (code === ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED) return 504;
  if (code === ErrorCode.ERROR_CODE_UNAVAILABLE || code === ErrorCode.ERROR_CODE_OVERLOADED || code === ErrorCode.ERROR_CODE_NO_PROVIDER) return 503;
  return CLIENT_CODES.has(code) ? 400 : 500;
}
