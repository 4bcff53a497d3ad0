/**
 * The one error type that crosses the bus; pure code throws it with a stable code. `toWire`/
 * `fromWire` (libs/bus) are the only converters to and from the wire.
 */
import { errorCodeName } from './error-codes';
import { ErrorCode } from './gen/swarm/v1/common';

export class SwarmError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SwarmError';
  }

  /** `SWARM_INSUFFICIENT_CREDIT` etc. */
  get codeName(): string {
    return errorCodeName(this.code);
  }
}

export function isSwarmError(err: unknown, code?: ErrorCode): err is SwarmError {
  return err instanceof SwarmError && (code === undefined || err.code === code);
}

