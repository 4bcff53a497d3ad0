/**
 * The receipt ids of a chain read so far, as 64 bits of each id's SHA-256 in an open-addressed
 * table kept at most half full: 16 to 32 bytes an id (a Set of the strings took about 50). Two ids of one chain share their
 * 64 bits with probability about n²/2⁶⁵ (3·10⁻⁸ for a million): then an honest chain reads as
 * holding a receipt twice, and its payer is refused, never credited.
 */
import { createHash } from 'node:crypto';

const START_SLOTS = 64;

export class ReceiptIdSet {
  /** Two 32-bit halves a slot; 0,0 is empty (an id hashing there is moved to 0,1). */
  private slots = new Uint32Array(2 * START_SLOTS);
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(receiptId: string): boolean {
    const [hi, lo] = hashOf(receiptId);
    return this.find(hi, lo) >= 0;
  }

  /** False when it was there already. */
  add(receiptId: string): boolean {
    const [hi, lo] = hashOf(receiptId);
    return this.insert(hi, lo);
  }

  /** The ids' 64-bit hashes, two 32-bit halves each, without the empty slots: what fromHashes takes back (payer-view-file.ts). */
  hashes(): Uint32Array {
    const out = new Uint32Array(2 * this.count);
    let n = 0;
    for (let i = 0; i < this.slots.length; i += 2) {
      if (this.slots[i] === 0 && this.slots[i + 1] === 0) continue;
      out[n++] = this.slots[i];
      out[n++] = this.slots[i + 1];
    }
    return out;
  }

  /** A set holding the ids whose hashes `hashes()` gave (an odd last half, the empty hash and repeats are dropped). */
  static fromHashes(hashes: Uint32Array): ReceiptIdSet {
    const set = new ReceiptIdSet();
    for (let i = 0; i + 1 < hashes.length; i += 2) if (hashes[i] !== 0 || hashes[i + 1] !== 0) set.insert(hashes[i], hashes[i + 1]);
    return set;
  }

  /** False when it was there already. */
  private insert(hi: number, lo: number): boolean {
    if (this.find(hi, lo) >= 0) return false;
    if (2 * (this.count + 1) > this.slots.length / 2) this.grow();
    this.place(hi, lo);
    this.count += 1;
    return true;
  }

  private find(hi: number, lo: number): number {
    const mask = this.slots.length / 2 - 1;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const h = this.slots[2 * i];
      const l = this.slots[2 * i + 1];
      if (h === 0 && l === 0) return -1;
      if (h === hi && l === lo) return i;
    }
  }

  private place(hi: number, lo: number): void {
    const mask = this.slots.length / 2 - 1;
    let i = lo & mask;
    while (this.slots[2 * i] !== 0 || this.slots[2 * i + 1] !== 0) i = (i + 1) & mask;
    this.slots[2 * i] = hi;
    this.slots[2 * i + 1] = lo;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.place(old[i], old[i + 1]);
  }
}

function hashOf(receiptId: string): [number, number] {
  const digest = createHash('sha256').update(receiptId).digest();
  const hi = digest.readUInt32BE(0);
  const lo = digest.readUInt32BE(4);
  return hi === 0 && lo === 0 ? [0, 1] : [hi, lo];
}

/** 64 bits of a receipt id's SHA-256 as 16 hex characters: a Map key as compact as the set's slots are (same odds of two ids sharing it). */
export function receiptIdKey(receiptId: string): string {
  return createHash('sha256').update(receiptId).digest('hex').slice(0, 16);
}
