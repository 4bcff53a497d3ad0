/**
 * Tensor wire format (see proto/swarm/v1/common.proto): little-endian f32, row-major.
 * Decoding returns a Float32Array view when the bytes are aligned (no copy on the hot path).
 */
import type { Tensor } from './gen/swarm/v1/common';
import { ErrorCode } from './gen/swarm/v1/common';
import { SwarmError } from './swarm-error';

export interface DenseTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function toTensor(name: string, shape: readonly number[], data: Float32Array): Tensor {
  if (!LITTLE_ENDIAN) throw new Error('big-endian hosts are not supported');
  if (data.length !== elementCount(shape)) {
    throw new RangeError(`tensor '${name}': ${data.length} values do not fill shape [${shape.join(',')}]`);
  }
  // A view, not a copy; a plain Uint8Array so the contracts also run in a browser.
  return { name, shape: [...shape], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Throws RangeError when the byte length does not match the shape. */
export function fromTensor(t: Tensor): DenseTensor {
  if (!LITTLE_ENDIAN) throw new Error('big-endian hosts are not supported');
  const count = elementCount(t.shape);
  if (t.data.byteLength !== count * 4) {
    throw new RangeError(`tensor '${t.name}': shape [${t.shape.join(',')}] needs ${count * 4} bytes, got ${t.data.byteLength}`);
  }
  const aligned = t.data.byteOffset % 4 === 0;
  // Decoded bytes are a view into the received message, at any offset: copy when unaligned. A
  // fresh Uint8Array: slice() of a Node.js buffer is a view, not a copy.
  const data = aligned ? new Float32Array(t.data.buffer, t.data.byteOffset, count) : new Float32Array(new Uint8Array(t.data).buffer);
  return { name: t.name, shape: [...t.shape], data };
}

/** Decodes request tensors; bytes that do not fill a declared shape are the sender's INVALID_ARGUMENT. */
export function decodeTensors(tensors: readonly Tensor[]): DenseTensor[] {
  try {
    return tensors.map(fromTensor);
  } catch (err) {
    if (err instanceof RangeError) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, err.message);
    throw err;
  }
}
