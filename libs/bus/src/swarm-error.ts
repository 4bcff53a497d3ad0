/**
 * The one error type that crosses the bus. `toWire`/`fromWire` are the only converters: peers see
 * a stable code and a message written for them, never a stack or internal text (anything that is
 * not a SwarmError becomes INTERNAL and its detail stays in the local log).
 */
import { ErrorCode, errorCodeName, SwarmErrorMessage } from '@swarm/contracts';

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

export const INTERNAL_MESSAGE = 'internal error (details in the serving node log)';

export function toWire(err: unknown): SwarmErrorMessage {
  if (err instanceof SwarmError) return { code: err.code, message: err.message, retryable: err.retryable };
  return { code: ErrorCode.ERROR_CODE_INTERNAL, message: INTERNAL_MESSAGE, retryable: false };
}

export function fromWire(msg: SwarmErrorMessage): SwarmError {
  const known = ErrorCode[msg.code] !== undefined && msg.code !== ErrorCode.ERROR_CODE_UNSPECIFIED;
  return new SwarmError(known ? msg.code : ErrorCode.ERROR_CODE_INTERNAL, msg.message, msg.retryable);
}
