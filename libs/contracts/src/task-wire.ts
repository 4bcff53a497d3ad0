/**
 * A SubmitTaskRequest counted on the wire before it is decoded. Decoding allocates an object per
 * entry of a repeated field: an empty Tensor is 2 bytes on the wire and about 100 bytes of heap, so
 * 8 MB of them cost seconds of the event loop and gigabytes of memory (api-svc's agents, and
 * router-svc's callers on the bus, all waited), though a task takes at most TASK_MAX_INPUTS inputs
 * of rank TASK_MAX_RANK. Walking the wire format allocates nothing per entry: a message holding
 * more is refused before any of it is decoded.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ErrorCode } from './gen/swarm/v1/common';
import { TASK_MAX_INPUTS as MAX_INPUTS, TASK_MAX_RANK as MAX_RANK } from './limits';
import { SwarmError } from './swarm-error';

/** SubmitTaskRequest.inputs and Tensor.shape (proto/swarm/v1/task.proto, common.proto). */
const INPUTS_FIELD = 2;
const SHAPE_FIELD = 2;

/** Refuses (INVALID_ARGUMENT) a SubmitTaskRequest with more inputs, or an input with more dimensions, than a task may have; MALFORMED_MESSAGE for bytes that are no protobuf. */
export function refuseOverfullTaskRequest(body: Uint8Array): void {
  let inputs = 0;
  try {
    const reader = new BinaryReader(body);
    while (reader.pos < reader.len) {
      const [field, wire] = reader.tag();
      if (field !== INPUTS_FIELD || wire !== WireType.LengthDelimited) {
        reader.skip(wire, field);
        continue;
      }
      inputs += 1;
      if (inputs > MAX_INPUTS) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `a task takes 1 to ${MAX_INPUTS} inputs, and the body holds more`);
      const rank = shapeEntries(reader.bytes());
      if (rank > MAX_RANK) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `input ${inputs - 1}: a shape has at most ${MAX_RANK} dimensions, got ${rank}`);
    }
  } catch (err) {
    if (err instanceof SwarmError) throw err;
    throw new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, 'the body is not a protobuf swarm.v1.SubmitTaskRequest');
  }
}

/**
 * Entries of a Tensor's shape, packed or not: each varint ends with a byte below 0x80. Read as
 * strictly as the walk reads the rest (a field may not run past its message's end), which the
 * generated decoder is not: a packed list whose last varint is unfinished it reads on past the
 * list, into what the walk took for other fields, and the two would disagree on what follows.
 */
function shapeEntries(tensor: Uint8Array): number {
  const reader = new BinaryReader(tensor);
  let entries = 0;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === SHAPE_FIELD && wire === WireType.LengthDelimited) {
      const packed = reader.bytes();
      if (packed.length > 0 && packed[packed.length - 1] >= 0x80) throw new RangeError('a packed shape ends inside a varint');
      for (const byte of packed) if (byte < 0x80 && (entries += 1) > MAX_RANK) return entries;
    } else {
      if (field === SHAPE_FIELD && wire === WireType.Varint) entries += 1;
      reader.skip(wire, field);
    }
  }
  return entries;
}
