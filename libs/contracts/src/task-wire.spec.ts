import { SubmitTaskRequest } from './gen/swarm/v1/task';
import { TASK_MAX_INPUTS } from './limits';
import { SwarmError } from './swarm-error';
import { refuseOverfullTaskRequest } from './task-wire';

const tensor = (shape: number[]) => ({ name: 'a', shape, data: new Uint8Array(4 * shape.reduce((n, d) => n * d, 1)) });
const encoded = (inputs: ReturnType<typeof tensor>[]) => SubmitTaskRequest.encode(SubmitTaskRequest.fromPartial({ skill: 'vecadd', inputs })).finish();
const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(Math.floor(n / 0x80))]);
const codeOf = (body: Uint8Array): string | undefined => {
  try {
    refuseOverfullTaskRequest(body);
    return undefined;
  } catch (err) {
    return err instanceof SwarmError ? err.codeName : String(err);
  }
};

describe('task request on the wire - counted before it is decoded', () => {
  it('passes a body within the limits: 16 inputs of rank 8', () => {
    expect(codeOf(encoded(Array.from({ length: 16 }, () => tensor([1, 1, 1, 1, 1, 1, 1, 2]))))).toBeUndefined();
  });

  it('refuses a 17th input, and millions of empty ones, as invalid', () => {
    expect(codeOf(encoded(Array.from({ length: 17 }, () => tensor([1]))))).toBe('SWARM_INVALID_ARGUMENT');
    const flood = Buffer.concat([Buffer.from([0x0a, 6]), Buffer.from('vecadd'), Buffer.alloc(4_000_000 * 2, Buffer.from([0x12, 0]))]);
    expect(codeOf(flood)).toBe('SWARM_INVALID_ARGUMENT');
  });

  it('refuses a shape of 9 dimensions, packed or one varint at a time', () => {
    expect(codeOf(encoded([tensor([1, 1, 1, 1, 1, 1, 1, 1, 1])]))).toBe('SWARM_INVALID_ARGUMENT');
    // Tensor { shape: 1 (unpacked, field 2 varint) × 9 }
    const unpacked = Buffer.from(Array.from({ length: 9 }, () => [0x10, 0x01]).flat());
    expect(codeOf(Buffer.concat([Buffer.from([0x12, unpacked.length]), unpacked]))).toBe('SWARM_INVALID_ARGUMENT');
    // A million dimensions packed in one field.
    const inner = Buffer.concat([Buffer.from([0x12, ...varint(1_000_000)]), Buffer.alloc(1_000_000, 1)]);
    expect(codeOf(Buffer.concat([Buffer.from([0x12, ...varint(inner.length)]), inner]))).toBe('SWARM_INVALID_ARGUMENT');
  });

  it('refuses a packed shape ending inside a varint, where the decoder reads on past it (and found a million inputs the walk never saw)', () => {
    // An input whose packed shape is one unfinished varint (0x80): the decoder reads it on into the
    // next field, an unknown field 15 to the walk, whose length byte it takes for the varint's end; the
    // decoder then reads what the walk skipped as the field's bytes as more of the message: a million empty inputs.
    const k = 1_048_579;
    const length = 4 + 3 + 2 * k;
    const head = [0x0a, 6, ...Buffer.from('matmul'), 0x12, 3, 0x12, 1, 0x80, 0x7a, ...varint(length), 0, 0, 0, 0, 0x78, 0x80, 0x01];
    const body = Buffer.concat([Buffer.from(head), Buffer.alloc(2 * k, Buffer.from([0x12, 0]))]);
    expect((length & 7) === 5 && varint(length).length === 4).toBe(true);
    expect(SubmitTaskRequest.decode(body).inputs.length).toBeGreaterThan(TASK_MAX_INPUTS);
    expect(codeOf(body)).toBe('SWARM_MALFORMED_MESSAGE');
  });

  it('answers bytes that are no protobuf as malformed', () => {
    expect(codeOf(new Uint8Array([0x0a, 0xff, 0xff]))).toBe('SWARM_MALFORMED_MESSAGE');
    expect(codeOf(new Uint8Array([0x12, 0x05, 0x12]))).toBe('SWARM_MALFORMED_MESSAGE');
  });
});
