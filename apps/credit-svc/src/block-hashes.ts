/**
 * 8 bytes for every block of a payer's chain audited since a view started (sighting-watch.ts
 * compares another payee's sighting with it, with no read): the first 8 bytes of
 * SHA-256(key ‖ the block's hash), in one growing buffer. The key is this process's own, never
 * shown: a payer that signs both blocks of a fork could grind two with one plain 8-byte hash prefix
 * in about 2^33 tries (helper-154), but cannot aim at a digest under a key it does not know (two
 * different blocks pass as one by a 2^-64 chance). Views restored from the file start it at their
 * head: blocks below are compared by reading them back.
 */
import { createHash } from 'node:crypto';

export const HASH_PREFIX_BYTES = 8;

export class BlockHashes {
  private bytes: Uint8Array;
  private count = 0;

  /** `base`: the seq before the first block it records; `key`: this process's secret (one for every view). */
  constructor(
    readonly base: bigint,
    private readonly key: Uint8Array,
  ) {
    this.bytes = new Uint8Array(HASH_PREFIX_BYTES * 64);
  }

  /** Records block `seq` (the next one) by its full hash. */
  push(seq: bigint, hash: Uint8Array): void {
    if (seq !== this.base + BigInt(this.count) + 1n) throw new RangeError(`block ${seq} recorded after block ${this.base + BigInt(this.count)}`);
    if ((this.count + 1) * HASH_PREFIX_BYTES > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(this.keyed(hash), this.count * HASH_PREFIX_BYTES);
    this.count += 1;
  }

  /** Whether block `seq` as recorded has the hash `hash`; undefined when it was not recorded (at or below the base, or past the last). */
  matches(seq: bigint, hash: Uint8Array): boolean | undefined {
    const i = seq - this.base - 1n;
    if (i < 0n || i >= BigInt(this.count)) return undefined;
    const from = Number(i) * HASH_PREFIX_BYTES;
    return Buffer.from(this.bytes.subarray(from, from + HASH_PREFIX_BYTES)).equals(this.keyed(hash));
  }

  /** Blocks recorded. */
  get size(): number {
    return this.count;
  }

  private keyed(hash: Uint8Array): Buffer {
    return createHash('sha256').update(this.key).update(hash).digest().subarray(0, HASH_PREFIX_BYTES);
  }
}
