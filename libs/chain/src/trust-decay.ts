/**
 * Trust of an idle node fades: τ ← τ·(1−β)^(Δt/T0). β is the fraction lost per period T0, and the
 * continuous exponent makes the result independent of how often it is applied: decaying by Δt₁ then
 * Δt₂ equals decaying by Δt₁ + Δt₂ (up to float rounding).
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { shown } from './chain-rules';

export interface TrustDecay {
  /** Fraction of trust lost per period, 0..1 (0: no decay; 1: all of it after one period). */
  readonly beta: number;
  /** The period T0, ms (> 0). */
  readonly periodMs: number;
}

/** A day's idleness costs 5% of a node's trust. */
export const DEFAULT_TRUST_DECAY: TrustDecay = Object.freeze({ beta: 0.05, periodMs: 86_400_000 });

/** τ·(1−β)^(Δt/T0) for a trust τ ≥ 0 and Δt ≥ 0 ms of idleness. */
export function decayTrust(trust: number, elapsedMs: number, decay: TrustDecay = DEFAULT_TRUST_DECAY): number {
  const problems: string[] = [];
  if (!Number.isFinite(trust) || trust < 0) problems.push(`trust must be a finite number >= 0, got ${shown(trust)}`);
  if (!Number.isFinite(elapsedMs) || elapsedMs < 0) problems.push(`elapsedMs must be a finite number >= 0, got ${shown(elapsedMs)}`);
  if (!Number.isFinite(decay.beta) || decay.beta < 0 || decay.beta > 1) problems.push(`beta must be in 0..1, got ${shown(decay.beta)}`);
  if (!Number.isFinite(decay.periodMs) || decay.periodMs <= 0) problems.push(`periodMs must be > 0, got ${shown(decay.periodMs)}`);
  if (problems.length > 0) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `decayTrust: ${problems.join('; ')}`);
  if (elapsedMs === 0) return trust;
  return trust * Math.pow(1 - decay.beta, elapsedMs / decay.periodMs);
}
