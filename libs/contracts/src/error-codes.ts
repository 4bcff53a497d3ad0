import { ErrorCode } from './gen/swarm/v1/common';

/** Every code a reply may carry (not the proto placeholders). */
export type RealErrorCode = Exclude<ErrorCode, ErrorCode.ERROR_CODE_UNSPECIFIED | ErrorCode.UNRECOGNIZED>;

export interface ErrorCodeInfo {
  /** HTTP-like status for the NATS services framework's Nats-Service-Error-Code header. */
  readonly status: number;
  /** Whether the same request may succeed later: `new SwarmError(code, message)` takes this. */
  readonly retryable: boolean;
  /** The first sentence of the code's row in docs/errors.md (a test keeps them in step). */
  readonly meaning: string;
}

/**
 * The one table of error codes. Keyed by the enum, so a new proto code does not compile until it
 * has its row here; docs/errors.md repeats it for people (error-codes.spec.ts compares them).
 */
export const ERROR_CODES: Readonly<Record<RealErrorCode, ErrorCodeInfo>> = Object.freeze({
  [ErrorCode.ERROR_CODE_INTERNAL]: { status: 500, retryable: false, meaning: "A bug or unexpected fault on the serving node; details are only in that node's log." },
  [ErrorCode.ERROR_CODE_MALFORMED_MESSAGE]: { status: 400, retryable: false, meaning: 'The request bytes are not the protobuf message the subject expects.' },
  [ErrorCode.ERROR_CODE_INVALID_ARGUMENT]: { status: 400, retryable: false, meaning: 'A field is out of range or inconsistent (zero budget, wrong matrix shapes, bad id).' },
  [ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE]: { status: 413, retryable: false, meaning: "The request or a tensor exceeds the node's size limit." },
  [ErrorCode.ERROR_CODE_UNKNOWN_SKILL]: { status: 400, retryable: false, meaning: 'No such skill is installed; `swarm skills` lists them.' },
  [ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT]: { status: 400, retryable: false, meaning: 'The paying account has fewer available credits than the budget.' },
  [ErrorCode.ERROR_CODE_BUDGET_TOO_LOW]: { status: 400, retryable: false, meaning: 'The task costs more than its budget; the message says the price.' },
  [ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT]: { status: 400, retryable: false, meaning: 'The ledger has no such account.' },
  [ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND]: { status: 400, retryable: false, meaning: 'No escrow with that id.' },
  [ErrorCode.ERROR_CODE_ESCROW_CLOSED]: { status: 400, retryable: false, meaning: 'The escrow was already settled or refunded differently; it closes exactly once.' },
  [ErrorCode.ERROR_CODE_ESCROW_CONFLICT]: { status: 400, retryable: false, meaning: 'An escrow with that id exists with other terms.' },
  [ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED]: { status: 504, retryable: true, meaning: 'The task or a request did not finish in time.' },
  [ErrorCode.ERROR_CODE_EXECUTION_FAILED]: {
    status: 500,
    retryable: true,
    meaning: 'The kernel failed on every attempt (the router retries a failed kernel up to its attempt limit).',
  },
  [ErrorCode.ERROR_CODE_VERIFICATION_FAILED]: { status: 500, retryable: true, meaning: 'Every result returned failed verification; nothing was paid.' },
  [ErrorCode.ERROR_CODE_NO_PROVIDER]: { status: 503, retryable: true, meaning: 'No provider offers the skill right now.' },
  [ErrorCode.ERROR_CODE_UNAVAILABLE]: { status: 503, retryable: true, meaning: 'A service the request needs is not running (no responders on its subject).' },
  [ErrorCode.ERROR_CODE_OVERLOADED]: { status: 503, retryable: true, meaning: 'The node is at capacity.' },
  [ErrorCode.ERROR_CODE_PERMISSION_DENIED]: { status: 403, retryable: false, meaning: "The node's bus refused the request: the caller's identity may not use that subject." },
  [ErrorCode.ERROR_CODE_TASK_RESULT_GONE]: {
    status: 409,
    retryable: false,
    meaning:
      'A submit retried with an idempotency key whose task already finished and was paid (the message says how much), but the router no longer holds its result (its retention window passed, or it restarted).',
  },
  [ErrorCode.ERROR_CODE_TASK_REFUNDED]: {
    status: 409,
    retryable: false,
    meaning: 'A submit retried with an idempotency key whose task already ended and was refunded (nothing was charged).',
  },
  [ErrorCode.ERROR_CODE_INVALID_RECORD]: {
    status: 400,
    retryable: false,
    meaning:
      'A signed NodeRecord failed validation (bad signature, node id not the hash of its key, wrong proof of work, expired or issued in the future, a field out of range); nothing was stored.',
  },
  [ErrorCode.ERROR_CODE_STALE_RECORD]: {
    status: 409,
    retryable: false,
    meaning: 'A NodeRecord is not newer than the one already held for that node (a replay or a reordered republish); nothing was stored.',
  },
  [ErrorCode.ERROR_CODE_UNAUTHENTICATED]: { status: 401, retryable: false, meaning: "The caller's credential (an agent's token) is missing, unknown, expired or revoked." },
  [ErrorCode.ERROR_CODE_RATE_LIMITED]: { status: 429, retryable: true, meaning: 'The caller (one agent token) sent more requests than its rate allows; retry after the hint.' },
  [ErrorCode.ERROR_CODE_INVALID_RECEIPT]: {
    status: 400,
    retryable: false,
    meaning:
      "A signed receipt failed validation (a missing or wrong signature or countersignature, a key that does not hash to the payer or payee, zero or overflowing amount, payer = payee, a field out of range, a receipt its payee voided); nothing was applied. Retryable only when it is dated ahead of the payee's clock.",
  },
  [ErrorCode.ERROR_CODE_INVALID_CHAIN]: {
    status: 400,
    retryable: false,
    meaning:
      "A node's chain failed validation (a gap, a broken hash link, a fork, a bad signature, a receipt twice or on the wrong side, an overspend, a skipped or wrong idle burn); nothing was applied.",
  },
  [ErrorCode.ERROR_CODE_UNIMPLEMENTED]: {
    status: 501,
    retryable: false,
    meaning: 'The peer does not implement the call: a node from an older build (e.g. one from before voids).',
  },
});

/** Every real code, in numeric order. */
export const ALL_ERROR_CODES: readonly RealErrorCode[] = Object.keys(ERROR_CODES)
  .map((k) => Number(k) as RealErrorCode)
  .sort((a, b) => a - b);

/** The table's row, or undefined for a number this build does not know (a newer peer's code). */
export function errorCodeInfo(code: ErrorCode): ErrorCodeInfo | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as RealErrorCode] : undefined;
}

/** Short stable name shown to people: ERROR_CODE_INSUFFICIENT_CREDIT -> SWARM_INSUFFICIENT_CREDIT. */
export function errorCodeName(code: ErrorCode): string {
  const name = ErrorCode[code] as string | undefined;
  if (name === undefined || code === ErrorCode.UNRECOGNIZED) return 'SWARM_UNKNOWN_ERROR';
  return name.replace(/^ERROR_CODE_/, 'SWARM_');
}

/** HTTP-like status for the NATS services framework's Nats-Service-Error-Code header. */
export function serviceStatusOf(code: ErrorCode): number {
  return errorCodeInfo(code)?.status ?? 500;
}

/** Whether a code is worth retrying when its sender does not say; unknown codes are not. */
export function isRetryableByDefault(code: ErrorCode): boolean {
  return errorCodeInfo(code)?.retryable ?? false;
}
