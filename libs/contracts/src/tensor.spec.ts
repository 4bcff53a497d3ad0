import { fromTensor, Tensor, toTensor } from './index';

describe('tensor - wire form', () => {
  it('decodes bytes at any offset of a received message, Node Buffer views included', () => {
    const values = new Float32Array([1.5, -2, 3.25]);
    const encoded = Tensor.encode(toTensor('a', [3], values)).finish();
    for (const offset of [0, 1, 2, 3]) {
      // A message inside a larger chunk, as the NATS client hands it over.
      const chunk = Buffer.alloc(encoded.length + offset);
      chunk.set(encoded, offset);
      const decoded = fromTensor(Tensor.decode(chunk.subarray(offset)));
      expect({ offset, data: Array.from(decoded.data) }).toEqual({ offset, data: [1.5, -2, 3.25] });
    }
  });

  it('refuses bytes that do not fill the shape', () => {
    expect(() => fromTensor({ name: 'a', shape: [2], data: new Uint8Array(7) })).toThrow(RangeError);
  });
});
