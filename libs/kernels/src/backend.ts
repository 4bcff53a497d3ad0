/** The gpu.js backends a kernel pool can run on, and what `auto` may pick on this machine. */

export type KernelBackend = 'webgpu' | 'webasm' | 'cpu';
export type BackendChoice = KernelBackend | 'auto';
export const BACKEND_CHOICES: readonly [BackendChoice, ...BackendChoice[]] = ['auto', 'webgpu', 'webasm', 'cpu'];

/**
 * gpu.js reaches WebGPU in Node only through `navigator.gpu` from the optional `webgpu` package (Dawn
 * bindings); it is not a dependency, so `auto` tries WebGPU only where someone installed it.
 */
export function webgpuInstalled(resolve: (id: string) => string = require.resolve): boolean {
  try {
    resolve('webgpu');
    return true;
  } catch {
    return false;
  }
}
