/**
 * Compiles a skill for one input shape into gpu.js kernels: the skill's `kernel.compile` written
 * against KernelBuilder (libs/skills), which this implements on gpu.js. Runs inside a pool worker;
 * the inputs have passed the skill's `validate`, so shapes are trusted here.
 */
import type { GPU, IKernelRunShortcut } from 'gpu.js';
import type { KernelArgument, KernelBuilder, KernelResult, SkillSpec } from '@swarm/skills';
import type { KernelBackend } from './backend';

export interface KernelTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface CompiledSkill {
  /** The backend its kernels actually run on (gpu.js may degrade a kernel to cpu). */
  readonly backend: KernelBackend;
  run(inputs: readonly Float32Array[]): Promise<KernelTensor[]>;
  destroy(): void;
}

export function compileSkill(gpu: GPU, skill: SkillSpec, shapes: ReadonlyArray<readonly number[]>): CompiledSkill {
  const kernels: IKernelRunShortcut[] = [];
  const builder: KernelBuilder = {
    kernel(source, settings) {
      const k = gpu.createKernel(source, {
        // Loops are bounded by constants; gpu.js still caps every loop at loopMaxIterations (honoured
        // at run time, though its typings omit it from kernel settings).
        tactic: 'precision',
        precision: 'single',
        output: [...settings.output],
        ...(settings.constants ? { constants: { ...settings.constants } } : {}),
        ...(settings.loopMaxIterations !== undefined ? { loopMaxIterations: settings.loopMaxIterations } : {}),
        ...(settings.pipeline ? { pipeline: true } : {}),
      });
      kernels.push(k);
      // On WebGPU a run answers a promise, elsewhere the result itself (gpu.js types only the latter,
      // and its argument types name DOM classes this build does not load). Awaiting covers both.
      const run = k as unknown as (...args: KernelArgument[]) => KernelResult | Promise<KernelResult>;
      return async (...args) => run(...args);
    },
    async read(result, count) {
      return flat(await readBack(result), count);
    },
  };
  return compiled(kernels, skill.kernel.compile(builder, shapes));
}

type Runner = (inputs: readonly Float32Array[]) => Promise<KernelTensor[]>;

function compiled(kernels: IKernelRunShortcut[], run: Runner): CompiledSkill {
  let backend: KernelBackend | undefined;
  return {
    get backend() {
      return backend ?? 'cpu';
    },
    async run(inputs) {
      const out = await run(inputs);
      // gpu.js builds (and may degrade) a kernel on its first call, so ask afterwards.
      backend ??= backendOf(kernels);
      return out;
    },
    destroy() {
      for (const k of kernels) (k as unknown as { destroy?: () => void }).destroy?.();
    },
  };
}

const BACKEND_BY_KERNEL_CLASS: Readonly<Record<string, KernelBackend>> = {
  WebGPUKernel: 'webgpu',
  WebAssemblyKernel: 'webasm',
  CPUKernel: 'cpu',
};

/** The slowest backend any of the kernels landed on. */
function backendOf(kernels: IKernelRunShortcut[]): KernelBackend {
  const names = kernels.map((k) => (k as unknown as { kernel?: object }).kernel?.constructor.name ?? '');
  const backends = names.map((n) => BACKEND_BY_KERNEL_CLASS[n] ?? 'cpu');
  if (backends.includes('cpu')) return 'cpu';
  return backends.includes('webasm') ? 'webasm' : 'webgpu';
}

/**
 * A pipeline kernel's result as plain arrays: on WebGPU it is a device buffer handle whose toArray()
 * resolves to what a non-pipeline run returns; on webasm and cpu it already is that.
 */
export async function readBack(result: unknown): Promise<unknown> {
  const handle = result as { toArray?: () => unknown } | null;
  return typeof handle?.toArray === 'function' ? await handle.toArray() : result;
}

/**
 * A kernel result as one row-major Float32Array. gpu.js returns a 2-D output as row views over one
 * fresh buffer; when they tile it exactly, that buffer is reused (no copy) and can be transferred.
 */
export function flat(result: unknown, count: number): Float32Array {
  if (result instanceof Float32Array) return result.length === count ? result : result.slice(0, count);
  if (Array.isArray(result) && result.length > 0 && result[0] instanceof Float32Array) {
    const rows = result as Float32Array[];
    const width = rows[0].length;
    const { buffer } = rows[0];
    const tiled = buffer.byteLength === count * 4 && rows.every((r, i) => r.buffer === buffer && r.byteOffset === i * width * 4 && r.length === width);
    if (tiled && rows.length * width === count) return new Float32Array(buffer, 0, count);
    const out = new Float32Array(count);
    rows.forEach((r, i) => out.set(r, i * width));
    return out;
  }
  throw new Error(`unexpected kernel output (${Object.prototype.toString.call(result)})`);
}
