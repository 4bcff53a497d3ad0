/**
 * A simple validator for tests (the registry injects the signed-NodeRecord check): a record is
 * "provider|issuedAtMs|expiresAtMs|proof[|rank=N]" and only `proof === 'proof-of-' + provider` passes, a
 * stand-in for a signature only the provider can make. Test-only; not exported from index.ts.
 */
import type { RecordValidator } from './provider-store';

export function testRecord(provider: string, issuedAtMs: number, expiresAtMs: number, proof = `proof-of-${provider}`, rank?: bigint): Uint8Array {
  return new TextEncoder().encode(`${provider}|${issuedAtMs}|${expiresAtMs}|${proof}${rank === undefined ? '' : `|rank=${rank}`}`);
}

export const validateTestRecord: RecordValidator = (_key, value, nowMs) => {
  const [provider, issued, expires, proof, rank] = new TextDecoder().decode(value).split('|');
  const issuedAtMs = Number(issued);
  const expiresAtMs = Number(expires);
  if (!provider || proof !== `proof-of-${provider}` || !Number.isFinite(issuedAtMs) || !Number.isFinite(expiresAtMs)) return { ok: false, reason: 'bad proof' };
  if (expiresAtMs <= nowMs) return { ok: false, reason: 'expired' };
  // Anything else after the proof is padding (tests make large records so).
  const ranked = /^rank=(\d+)$/.exec(rank ?? '');
  return { ok: true, provider, issuedAtMs, expiresAtMs, ...(ranked ? { rank: BigInt(ranked[1]) } : {}) };
};

export function providerOfTestRecord(value: Uint8Array): string {
  return new TextDecoder().decode(value).split('|')[0];
}
