/**
 * Compiles a skill for one input shape into gpu.js kernels. Runs inside a pool worker; the inputs
 * have passed the skill's `validate`, so shapes are trusted here.
 */
import type { GPU, IKernelRunShortcut, IGPUKernelSettings } from 'gpu.js';
import type { KernelBackend } from './backend';
import { MATMUL, MLP_HIDDEN, MLP_LOG_SUM_EXP, MLP_LOGITS, MLP_SOFTMAX, VECADD } from './kernel-sources';

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

type Shapes = ReadonlyArray<readonly number[]>;

export function compileSkill(gpu: GPU, skill: string, shapes: Shapes): CompiledSkill {
  switch (skill) {
    case 'matmul':
      return compileMatmul(gpu, shapes);
    case 'vecadd':
      return compileVecadd(gpu, shapes);
    case 'mlp':
      return compileMlp(gpu, shapes);
    default:
      throw new Error(`no kernel for skill '${skill}'`);
  }
}

/** gpu.js honours loopMaxIterations at run time but its typings omit it from kernel settings. */
type KernelSettings = IGPUKernelSettings & { loopMaxIterations?: number };

function kernel(gpu: GPU, source: string, settings: KernelSettings): IKernelRunShortcut {
  // Loops are bounded by constants; gpu.js still caps every loop at loopMaxIterations.
  return gpu.createKernel(source, { tactic: 'precision', precision: 'single', ...settings } as IGPUKernelSettings);
}

function compileMatmul(gpu: GPU, shapes: Shapes): CompiledSkill {
  const [[n, k], [, m]] = shapes;
  const mm = kernel(gpu, MATMUL, { output: [m, n], constants: { k, m }, loopMaxIterations: k });
  return compiled([mm], async ([a, b]) => [{ name: 'c', shape: [n, m], data: flat(await mm(a, b), n * m) }]);
}

function compileVecadd(gpu: GPU, shapes: Shapes): CompiledSkill {
  const [[n]] = shapes;
  const add = kernel(gpu, VECADD, { output: [n] });
  return compiled([add], async ([a, b]) => [{ name: 'c', shape: [n], data: flat(await add(a, b), n) }]);
}

function compileMlp(gpu: GPU, shapes: Shapes): CompiledSkill {
  const [[batch, inputs], [, hidden], , [, outputs]] = shapes;
  const constants = { inputs, hidden, outputs };
  // Intermediate results stay on the device (textures/buffers) on GPU backends: `pipeline`. The
  // activations u and z are also read back: they travel with y as the commitments it is verified by.
  const layer1 = kernel(gpu, MLP_HIDDEN, { output: [hidden, batch], constants, loopMaxIterations: inputs, pipeline: true });
  const layer2 = kernel(gpu, MLP_LOGITS, { output: [outputs, batch], constants, loopMaxIterations: hidden, pipeline: true });
  const lse = kernel(gpu, MLP_LOG_SUM_EXP, { output: [batch], constants, loopMaxIterations: outputs, pipeline: true });
  const softmax = kernel(gpu, MLP_SOFTMAX, { output: [outputs, batch] });
  return compiled([layer1, layer2, lse, softmax], async ([x, w1, b1, w2, b2]) => {
    const u = await layer1(x, w1, b1);
    const z = await layer2(u, w2, b2);
    const y = await softmax(z, await lse(z));
    return [
      { name: 'y', shape: [batch, outputs], data: flat(y, batch * outputs) },
      { name: 'u', shape: [batch, hidden], data: flat(await readBack(u), batch * hidden) },
      { name: 'z', shape: [batch, outputs], data: flat(await readBack(z), batch * outputs) },
    ];
  });
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
