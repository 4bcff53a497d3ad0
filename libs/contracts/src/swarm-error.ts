/**
 * The one error type that crosses the bus; pure code throws it with a stable code. `toWire`/
 * `fromWire` (libs/bus) are the only converters to and from the wire.
 */
import { errorCodeName, isRetryableByDefault } from './error-codes';
import type { ErrorCode } from './gen/swarm/v1/common';

/** Longest retry-after hint carried: a day, far inside the wire's uint32 ms. */
const MAX_RETRY_AFTER_MS = 86_400_000;

export class SwarmError extends Error {
  /** Whether the same request may succeed later; by default the code's (error-codes.ts). */
  readonly retryable: boolean;
  /** How long to wait before sending again (ms); 0 when the sender gives no hint. */
  readonly retryAfterMs: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    retryable?: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.name = 'SwarmError';
    this.retryable = retryable ?? isRetryableByDefault(code);
    // A whole, non-negative number of ms fits the wire's uint32; anything else means "no hint".
    const after = options?.retryAfterMs ?? 0;
    this.retryAfterMs = Number.isFinite(after) && after > 0 ? Math.min(Math.ceil(after), MAX_RETRY_AFTER_MS) : 0;
  }

  /** `SWARM_INSUFFICIENT_CREDIT` etc. */
  get codeName(): string {
    return errorCodeName(this.code);
  }
}

export function isSwarmError(err: unknown, code?: ErrorCode): err is SwarmError {
  return err instanceof SwarmError && (code === undefined || err.code === code);
}
