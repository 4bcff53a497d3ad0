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
  const listed = gpuKernels(gpu);
  const before = new Set(listed);
  const run = skill.kernel.compile(builder, shapes);
  return compiled(
    listed,
    kernels,
    run,
    listed.filter((k) => !before.has(k)),
  );
}

type Runner = (inputs: readonly Float32Array[]) => Promise<KernelTensor[]>;

/**
 * The kernels a gpu.js instance keeps listed (`gpu.kernels`, untyped). Its cpu kernels stay there
 * after destroy() (its webasm ones take themselves off), as do kernels it replaced by others (a
 * fallback, a switch on new argument types): a kernel set evicted from a cache was never freed,
 * about 0.7 MB per mlp set at the largest tiny shapes, so a stream of new shapes grew a thread's
 * heap until it ran out (a helper's attack: 115 MB to 949 MB in a minute on the cpu backend).
 */
function gpuKernels(gpu: GPU): object[] {
  return (gpu as unknown as { kernels: object[] }).kernels;
}

/**
 * `owned`: the kernels gpu.js listed for this set, at its compile and at its runs (it builds, and may
 * replace, kernels on a first call); runs of one thread's sets never overlap (a pool worker runs one
 * task at a time, the inline lane one run at a time), so what a run adds is this set's.
 */
function compiled(listed: object[], kernels: IKernelRunShortcut[], run: Runner, owned: object[]): CompiledSkill {
  let backend: KernelBackend | undefined;
  return {
    get backend() {
      return backend ?? 'cpu';
    },
    async run(inputs) {
      const before = new Set(listed);
      try {
        const out = await run(inputs);
        // gpu.js builds (and may degrade) a kernel on its first call, so ask afterwards.
        backend ??= backendOf(kernels);
        return out;
      } finally {
        for (const k of listed) if (!before.has(k)) owned.push(k);
      }
    },
    destroy() {
      const current = new Set(kernels.map((k) => (k as unknown as { kernel?: object }).kernel));
      for (const k of kernels) (k as unknown as { destroy?: () => void }).destroy?.();
      for (const k of owned) {
        // Replaced ones too: the shortcuts destroyed only their current kernels.
        if (!current.has(k)) (k as { destroy?: () => void }).destroy?.();
        const at = listed.indexOf(k);
        if (at !== -1) listed.splice(at, 1);
      }
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
