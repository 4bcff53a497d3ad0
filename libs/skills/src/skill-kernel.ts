/**
 * A skill's kernels as data and plain functions, so this library stays pure (no gpu.js): libs/kernels
 * implements `KernelBuilder` on gpu.js and calls `compile` once per input shape in a pool worker.
 *
 * Kernel bodies are source strings: gpu.js parses the text of a kernel, so it must be exactly this
 * JavaScript, untouched by whatever transpiler (swc, esbuild, coverage) loaded the module. Dimensions
 * arrive as `this.constants` (one compiled kernel per shape) so loop bounds are static. Flat row-major
 * Float32Array inputs are indexed by hand; a 2-D kernel result passed to another kernel arrives as rows.
 */
import type { DenseTensor } from '@swarm/contracts';

export interface KernelSettings {
  /** Threads per dimension, x (the fastest-varying index) first: [n] or [columns, rows]. */
  readonly output: readonly [number] | readonly [number, number];
  /** Values the source reads as `this.constants.<name>`. */
  readonly constants?: Readonly<Record<string, number>>;
  /** The longest loop's bound: gpu.js caps every loop at this many iterations. */
  readonly loopMaxIterations?: number;
  /** Keep the result on the device, to be another kernel's input or `read` later (GPU backends). */
  readonly pipeline?: boolean;
}

declare const KERNEL_RESULT: unique symbol;
/** Opaque: device memory or host rows, depending on the backend; pass it on or `read` it. */
export type KernelResult = { readonly [KERNEL_RESULT]: true };
export type KernelArgument = Float32Array | KernelResult;
export type Kernel = (...args: KernelArgument[]) => Promise<KernelResult>;

export interface KernelBuilder {
  kernel(source: string, settings: KernelSettings): Kernel;
  /** A result as one row-major Float32Array of `count` values, read back from the device if needed. */
  read(result: KernelResult, count: number): Promise<Float32Array>;
}

/** Runs compiled kernels on the inputs' data (in signature order); answers what `outputShapes` names. */
export type KernelProgram = (inputs: readonly Float32Array[]) => Promise<DenseTensor[]>;

export interface SkillKernel {
  /** Builds the kernels for inputs of these shapes, which have passed the skill's `validate`. */
  compile(kernels: KernelBuilder, shapes: ReadonlyArray<readonly number[]>): KernelProgram;
}
