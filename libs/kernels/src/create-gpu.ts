/** One gpu.js instance per worker thread, on the requested backend or the best one below it. */
import { pathToFileURL } from 'node:url';
import { GPU } from 'gpu.js';
import type { KernelBackend } from './backend';

interface WebGpuModule {
  create(flags: string[]): unknown;
  globals: Record<string, unknown>;
}

/**
 * A real dynamic import: `webgpu` is ESM-only, and CommonJS transpilers (swc, esbuild) may rewrite a
 * literal `import()` into `require()`, which cannot load ESM on Node 20.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the point: see above
const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<WebGpuModule>;

export async function createGpu(backend: KernelBackend): Promise<GPU> {
  if (backend === 'webgpu') {
    await installNavigatorGpu();
    // navigator.gpu can exist with no usable adapter (no GPU, no driver): ask for one.
    if (!(await GPU.isWebGPUAvailable())) throw new Error('WebGPU: navigator.gpu is present but no adapter answered');
    return new GPU({ mode: 'webgpu' });
  }
  if (backend === 'webasm' && GPU.isWebAssemblySupported) return new GPU({ mode: 'webasm' });
  return new GPU({ mode: 'cpu' });
}

/** gpu.js looks for WebGPU at `navigator.gpu`; in Node the `webgpu` package (Dawn bindings) provides it. */
async function installNavigatorGpu(): Promise<void> {
  const webgpu = await importModule(pathToFileURL(require.resolve('webgpu')).href);
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([]);
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
}
