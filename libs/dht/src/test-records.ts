/**
 * A simple validator for tests (the registry injects the signed-NodeRecord check): a record is
 * "provider|issuedAtMs|expiresAtMs|proof" and only `proof === 'proof-of-' + provider` passes, a
 * stand-in for a signature only the provider can make. Test-only; not exported from index.ts.
 */
import type { RecordValidator } from './provider-store';

export function testRecord(provider: string, issuedAtMs: number, expiresAtMs: number, proof = `proof-of-${provider}`): Uint8Array {
  return new TextEncoder().encode(`${provider}|${issuedAtMs}|${expiresAtMs}|${proof}`);
}

export const validateTestRecord: RecordValidator = (_key, value, nowMs) => {
  const [provider, issued, expires, proof] = new TextDecoder().decode(value).split('|');
  const issuedAtMs = Number(issued);
  const expiresAtMs = Number(expires);
  if (!provider || proof !== `proof-of-${provider}` || !Number.isFinite(issuedAtMs) || !Number.isFinite(expiresAtMs)) return { ok: false, reason: 'bad proof' };
  if (expiresAtMs <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, provider, issuedAtMs, expiresAtMs };
};

export function providerOfTestRecord(value: Uint8Array): string {
  return new TextDecoder().decode(value).split('|')[0];
}
