export type Random = () => number; // uniform in [0, 1)

/** Draws per refill: one getRandomValues call (at most 65536 bytes) serves this many numbers. */
const CRYPTO_BATCH = 4096;
const TWO_POW_26 = 2 ** 26;
const TWO_POW_53 = 2 ** 53;

/**
 * Production randomness: a CSPRNG (WebCrypto `getRandomValues`, Node's OS-seeded generator), so no
 * one outside this process can predict a draw. Verifiers draw their random projections from it: an
 * executor that could predict them could shape a wrong result to pass (see docs/verification.md).
 */
export const systemRandom: Random = cryptoRandom();

/** The one method of WebCrypto's `Crypto` that cryptoRandom uses (tests may pass a stub). */
export interface RandomValuesSource {
  getRandomValues(array: Uint32Array): unknown;
}

/**
 * Uniform doubles in [0, 1) with all 53 bits of the mantissa random, from a buffered CSPRNG.
 * Buffering keeps the cost near Math.random's even for the millions of draws of a large demo input.
 */
export function cryptoRandom(source: RandomValuesSource = globalThis.crypto): Random {
  const words = new Uint32Array(2 * CRYPTO_BATCH);
  let next = words.length;
  return () => {
    if (next === words.length) {
      source.getRandomValues(words);
      next = 0;
    }
    const hi = words[next] >>> 5; // 27 bits
    const lo = words[next + 1] >>> 6; // 26 bits
    next += 2;
    return (hi * TWO_POW_26 + lo) / TWO_POW_53;
  };
}

/**
 * A random RFC 4122 version-4 UUID drawn from `random`: with systemRandom it is as unguessable as
 * crypto.randomUUID, with seededRandom it repeats (tests, simulation).
 */
export function randomUuid(random: Random): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** mulberry32: tiny, fast, good enough for tests and simulation (not for keys). */
export function seededRandom(seed: number): Random {
  // Bound once: tests draw millions of values, and under jest's vm sandbox every lookup of a global
  // such as Math costs ~0.5 µs, ten times the rest of a draw.
  const { imul } = Math;
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
