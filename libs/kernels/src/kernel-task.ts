/**
 * The message between the pool and its workers. Inputs travel packed in one fresh ArrayBuffer that
 * is transferred, not cloned: the caller's tensors are usually views into a NATS message buffer we
 * neither own nor may detach, and cloning a view would copy its whole backing buffer. One packed
 * copy of exactly the input bytes is the least work; outputs come back by transfer with no copy.
 */
import type { KernelBackend } from './backend';
import type { KernelTensor } from './skill-kernels';

export interface KernelTask {
  readonly skill: string;
  readonly names: string[];
  readonly shapes: number[][];
  /** Element offset of each input in `packed`. */
  readonly offsets: number[];
  readonly packed: ArrayBuffer;
}

export interface KernelTaskResult {
  readonly outputs: KernelTensor[];
  readonly backend: KernelBackend;
  /** Time the worker spent on the task, including kernel compilation on its first call per shape. */
  readonly executeMs: number;
}

export function packTask(skill: string, inputs: readonly KernelTensor[]): KernelTask {
  const total = inputs.reduce((n, t) => n + t.data.length, 0);
  const packed = new Float32Array(total);
  const offsets: number[] = [];
  let at = 0;
  for (const t of inputs) {
    offsets.push(at);
    packed.set(t.data, at);
    at += t.data.length;
  }
  return { skill, names: inputs.map((t) => t.name), shapes: inputs.map((t) => [...t.shape]), offsets, packed: packed.buffer };
}

export function unpackInputs(task: KernelTask): Float32Array[] {
  return task.shapes.map(
    (shape, i) =>
      new Float32Array(
        task.packed,
        task.offsets[i] * 4,
        shape.reduce((n, d) => n * d, 1),
      ),
  );
}

/** Cache key: one compiled kernel set per skill and input shape. */
export function shapeKey(task: { readonly skill: string; readonly shapes: ReadonlyArray<readonly number[]> }): string {
  return `${task.skill}:${task.shapes.map((s) => s.join('x')).join(',')}`;
}
