/**
 * The only converters between SwarmError and its wire form: peers see a stable code and a message
 * written for them, never a stack or internal text (anything that is not a SwarmError becomes
 * INTERNAL and its detail stays in the local log).
 */
import type { SwarmErrorMessage } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';

export const INTERNAL_MESSAGE = 'internal error (details in the serving node log)';
/**
 * Messages may quote peer input; capping them keeps an error reply (header and body) far below
 * any payload limit, whatever a peer sent.
 */
export const MAX_ERROR_MESSAGE_CHARS = 512;

export function toWire(err: unknown): SwarmErrorMessage {
  if (err instanceof SwarmError) {
    return { code: err.code, message: capMessage(err.message), retryable: err.retryable, retryAfterMs: err.retryAfterMs };
  }
  return { code: ErrorCode.ERROR_CODE_INTERNAL, message: INTERNAL_MESSAGE, retryable: false, retryAfterMs: 0 };
}

export function fromWire(msg: SwarmErrorMessage): SwarmError {
  const known = ErrorCode[msg.code] !== undefined && msg.code !== ErrorCode.ERROR_CODE_UNSPECIFIED;
  // A hint only means something on an error worth retrying; SwarmError bounds its value.
  const retryAfterMs = msg.retryable ? msg.retryAfterMs : 0;
  return new SwarmError(known ? msg.code : ErrorCode.ERROR_CODE_INTERNAL, capMessage(msg.message), msg.retryable, { retryAfterMs });
}

function capMessage(message: string): string {
  return message.length <= MAX_ERROR_MESSAGE_CHARS ? message : `${message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`;
}
