export { createKernelPool, WORKER_FILE, PROBE_TIMEOUT_MS } from './kernel-pool';
export type { KernelPool, KernelPoolOptions, KernelPoolStats, KernelRun, KernelRunOptions } from './kernel-pool';
export { BACKEND_CHOICES, webgpuInstalled } from './backend';
export type { BackendChoice, KernelBackend } from './backend';
export { INLINE_MAX_WORK } from './inline-lane';
