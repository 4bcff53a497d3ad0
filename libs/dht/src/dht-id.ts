/**
 * Ids on the DHT: kademlia-dht's 160-bit `Id`, written as 40 lower-case hex characters on the wire.
 * A key's position is sha1(key) (the package's `Id.fromKey`); a node's id is whatever 160 bits its
 * owner derives from its identity (the registry will take them from hash(node key)).
 */
import Id from 'kademlia-dht/lib/id';
import type { Random } from '@swarm/determinism';
import { ErrorCode, SwarmError } from '@swarm/contracts';

export const ID_BYTES = 20;
export const ID_BITS = ID_BYTES * 8;
const HEX_ID = /^[0-9a-f]{40}$/;

export function isHexId(value: unknown): value is string {
  return typeof value === 'string' && HEX_ID.test(value);
}

/** The package's Id for a 40-hex-character id; anything else is an INVALID_ARGUMENT. */
export function idFromHex(hex: string): Id {
  if (!isHexId(hex)) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `a DHT id is ${ID_BYTES * 2} lower-case hex characters, got '${String(hex).slice(0, 64)}'`);
  return new Id(Buffer.from(hex, 'hex'));
}

/** idFromHex for an id a wire check (wire-checks.ts) has already passed: the hot path of lookups checks each id once. */
export function idFromCheckedHex(hex: string): Id {
  return new Id(Buffer.from(hex, 'hex'));
}

export function idToHex(id: Id): string {
  return id.toString();
}

/** Where a key lives on the DHT. */
export function keyId(key: string): Id {
  return Id.fromKey(key);
}

/** Leading bits two ids share: the index of the bucket one keeps the other in. */
export function commonPrefixLength(a: Id, b: Id): number {
  for (let i = 0; i < ID_BITS; i++) if (a.at(i) !== b.at(i)) return i;
  return ID_BITS;
}

/**
 * A random id sharing exactly `prefixBits` leading bits with `self`: a target that falls in the
 * bucket a refresh looks up (Kademlia §2.3: refresh a bucket by looking up a random id in its range).
 */
export function randomIdInBucket(self: Id, prefixBits: number, random: Random): Id {
  const bytes = Buffer.alloc(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) bytes[i] = Math.floor(random() * 256);
  for (let bit = 0; bit <= prefixBits && bit < ID_BITS; bit++) {
    const mask = 0x80 >> (bit % 8);
    const want = bit < prefixBits ? self.at(bit) : !self.at(bit);
    if (want) bytes[bit >> 3] |= mask;
    else bytes[bit >> 3] &= ~mask & 0xff;
  }
  return new Id(bytes);
}

/** A random id (a new node's id in tests and the simulation). */
export function randomHexId(random: Random): string {
  let hex = '';
  for (let i = 0; i < ID_BYTES; i++)
    hex += Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0');
  return hex;
}
