import { packTask, shapeKey, unpackInputs } from './kernel-task';

describe('kernel task - packing', () => {
  it('packs inputs into one buffer and unpacks views of the same values', () => {
    const backing = new Float32Array(100);
    // A view into a larger buffer, as a tensor decoded from a NATS message is.
    const a = backing.subarray(10, 16).fill(3);
    const b = Float32Array.of(1, 2, 3);
    const task = packTask('matmul', [
      { name: 'a', shape: [2, 3], data: a },
      { name: 'b', shape: [3, 1], data: b },
    ]);
    expect(task.packed.byteLength).toBe(9 * 4);
    expect(task).toMatchObject({
      skill: 'matmul',
      names: ['a', 'b'],
      shapes: [
        [2, 3],
        [3, 1],
      ],
      offsets: [0, 6],
    });
    const [ua, ub] = unpackInputs(task);
    expect(Array.from(ua)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(Array.from(ub)).toEqual([1, 2, 3]);
    expect(ua.buffer).toBe(task.packed);
  });

  it('keys compiled kernels by skill and shape', () => {
    expect(shapeKey({ skill: 'mlp', shapes: [[2, 3], [3, 4], [4]] })).toBe('mlp:2x3,3x4,4');
  });
});
