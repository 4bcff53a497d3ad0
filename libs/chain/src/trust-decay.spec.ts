import fc from 'fast-check';
import { ErrorCode } from '@swarm/contracts';
import { decayTrust, DEFAULT_TRUST_DECAY } from './trust-decay';

const DAY = 86_400_000;

describe('trust decay - τ·(1−β)^(Δt/T0)', () => {
  it('loses β per period, continuously in between', () => {
    expect(decayTrust(1, 0)).toBe(1);
    expect(decayTrust(1, DAY)).toBeCloseTo(0.95, 12);
    expect(decayTrust(0.8, 2 * DAY, { beta: 0.5, periodMs: DAY })).toBeCloseTo(0.2, 12);
    expect(decayTrust(1, DAY / 2, { beta: 0.75, periodMs: DAY })).toBeCloseTo(0.5, 12);
    expect(decayTrust(1, DAY, { beta: 1, periodMs: DAY })).toBe(0);
    expect(decayTrust(1, 10 * DAY, { beta: 0, periodMs: DAY })).toBe(1);
    expect(DEFAULT_TRUST_DECAY).toEqual({ beta: 0.05, periodMs: DAY });
  });

  it('is the same applied once or in two steps, and never grows', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.99, noNaN: true }), fc.nat(30 * DAY), fc.nat(30 * DAY), (tau, beta, d1, d2) => {
        const decay = { beta, periodMs: DAY };
        const once = decayTrust(tau, d1 + d2, decay);
        expect(decayTrust(decayTrust(tau, d1, decay), d2, decay)).toBeCloseTo(once, 9);
        expect(once).toBeLessThanOrEqual(tau);
      }),
    );
  });

  it('refuses arguments out of range with every problem listed', () => {
    expect(() => decayTrust(-1, -5, { beta: 2, periodMs: 0 })).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.stringMatching(/trust.*elapsedMs.*beta.*periodMs/) }),
    );
    expect(() => decayTrust(Number.NaN, 1)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }));
  });
});
