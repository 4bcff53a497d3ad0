/**
 * Messages counted on the wire before they are decoded. Decoding allocates an object per entry of a
 * repeated field (and per occurrence of a message field): an empty entry is 2 bytes on the wire and
 * about 100 bytes of heap, so 8 MB of them cost seconds of an event loop and gigabytes of memory
 * (a remote peer's 4M empty receipts took gateway-svc out of memory). A WireLimits names, per field
 * number, how many entries a message may hold, and the limits of each entry's own fields; walking
 * the wire format allocates nothing per entry, so a message holding more is refused undecoded.
 *
 * The walk is strict where the generated decoder is lenient: a field may not run past the end of
 * the message holding it, and a packed list may not end inside a varint. The decoder reads on past
 * such an end, so it would read what follows differently from the walk; such bytes are refused.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ErrorCode } from './gen/swarm/v1/common';
import { SwarmError } from './swarm-error';

/**
 * A field's limit: at most `max` entries (a packed list counts each value). A field of a message
 * type names `message`, the limits of the entry's own fields ({} for none): each entry is walked
 * as strictly as the outer message, since the decoder of an entry could otherwise read on past its
 * end into what the walk skipped. A field with neither `message` nor `packed` is bytes, not walked.
 */
export interface FieldLimit {
  readonly max: number;
  readonly message?: WireLimits;
  /** A repeated scalar (uint32 and the like), packed or one varint at a time. */
  readonly packed?: boolean;
  /** What an entry is, in a refusal ("inputs", "receipts"). */
  readonly name: string;
}

/** Limits by field number; fields not named are skipped unread. */
export type WireLimits = Readonly<Record<number, FieldLimit>>;

/**
 * Refuses (INVALID_ARGUMENT) `bytes` when a field holds more entries than `limits` allow, and
 * (MALFORMED_MESSAGE) bytes that are no protobuf message of `what`, or that the walk and the decoder
 * would read differently.
 */
export function refuseOverfullMessage(bytes: Uint8Array, limits: WireLimits, what: string): void {
  try {
    walk(bytes, limits, what);
  } catch (err) {
    if (err instanceof SwarmError) throw err;
    throw new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, `the bytes are not a protobuf ${what}`);
  }
}

function walk(bytes: Uint8Array, limits: WireLimits, what: string): void {
  const reader = new BinaryReader(bytes);
  const counts = new Map<number, number>();
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    const limit = limits[field];
    let entries: number;
    if (limit === undefined) {
      reader.skip(wire, field);
      continue;
    } else if (limit.packed && wire === WireType.LengthDelimited) {
      entries = packedEntries(reader.bytes(), limit.max);
    } else if (limit.packed && wire === WireType.Varint) {
      reader.skip(wire, field);
      entries = 1;
    } else if (!limit.packed && wire === WireType.LengthDelimited) {
      const entry = reader.bytes();
      if (limit.message) walk(entry, limit.message, `${what} ${limit.name}`);
      entries = 1;
    } else {
      // Another wire type than the field's: the decoder skips it too.
      reader.skip(wire, field);
      continue;
    }
    const count = (counts.get(field) ?? 0) + entries;
    if (count > limit.max) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `a ${what} holds at most ${limit.max} ${limit.name}, and this one more`);
    counts.set(field, count);
  }
}

/** Values in a packed list (each varint ends with a byte below 0x80), counted up to just past `max`. */
function packedEntries(packed: Uint8Array, max: number): number {
  if (packed.length > 0 && packed[packed.length - 1] >= 0x80) throw new RangeError('a packed list ends inside a varint');
  let entries = 0;
  for (const byte of packed) if (byte < 0x80 && (entries += 1) > max) break;
  return entries;
}
