/**
 * The first 8 bytes of the hash of every block of a payer's chain audited since a view started
 * (sighting-watch.ts compares another payee's sighting with it, with no read): 8 bytes a block, in
 * one growing buffer. Two different blocks of one seq share a prefix only by a 2^-64 chance, which
 * a payer cannot grind for (it would have to find a second block with that prefix). Views restored
 * from the file start it at their head: blocks below are compared by reading them back.
 */
export const HASH_PREFIX_BYTES = 8;

export class BlockHashes {
  private bytes: Uint8Array;
  private count = 0;

  /** `base`: the seq before the first block it records. */
  constructor(readonly base: bigint) {
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
    this.bytes.set(hash.subarray(0, HASH_PREFIX_BYTES), this.count * HASH_PREFIX_BYTES);
    this.count += 1;
  }

  /** The prefix recorded for `seq`, or undefined when it was not (at or below the base, or past the last). */
  at(seq: bigint): Uint8Array | undefined {
    const i = seq - this.base - 1n;
    if (i < 0n || i >= BigInt(this.count)) return undefined;
    const from = Number(i) * HASH_PREFIX_BYTES;
    return this.bytes.subarray(from, from + HASH_PREFIX_BYTES);
  }

  /** Blocks recorded. */
  get size(): number {
    return this.count;
  }
}
