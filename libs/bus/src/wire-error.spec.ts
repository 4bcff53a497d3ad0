import { ErrorCode, SwarmError, SwarmErrorMessage } from '@swarm/contracts';
import { fromWire, INTERNAL_MESSAGE, toWire } from './wire-error';

describe('wire error - retry-after hint', () => {
  it('carries retry_after_ms through the wire and back', () => {
    const err = new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'router-svc is at capacity', true, { retryAfterMs: 1_234 });
    const bytes = SwarmErrorMessage.encode(toWire(err)).finish();
    const back = fromWire(SwarmErrorMessage.decode(bytes));
    expect(back).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, retryAfterMs: 1_234 });
  });

  it('sends no hint for errors without one, nor for a fault that is not a SwarmError', () => {
    expect(toWire(new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'bad'))).toEqual({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: 'bad',
      retryable: false,
      retryAfterMs: 0,
    });
    expect(toWire(new Error('secret detail'))).toEqual({ code: ErrorCode.ERROR_CODE_INTERNAL, message: INTERNAL_MESSAGE, retryable: false, retryAfterMs: 0 });
  });

  it('drops a hint on an error that is not retryable, and keeps hints whole and bounded', () => {
    expect(fromWire({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: 'x', retryable: false, retryAfterMs: 500 }).retryAfterMs).toBe(0);
    expect(new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'x', true, { retryAfterMs: 10.2 }).retryAfterMs).toBe(11);
    expect(new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'x', true, { retryAfterMs: -5 }).retryAfterMs).toBe(0);
    expect(new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'x', true, { retryAfterMs: 2 ** 40 }).retryAfterMs).toBe(86_400_000);
  });
});
