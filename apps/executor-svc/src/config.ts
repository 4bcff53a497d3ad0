/**
 * executor-svc settings. Pure given the machine's CPU count, which main.ts passes in
 * (os.availableParallelism()) as the default thread count.
 */
import type { Env, ServiceConfig } from '@swarm/config';
import { enumVar, intVar, loadEnv, SERVICE_VARS, stringVar, toServiceConfig } from '@swarm/config';
import { BUS_MAX_PAYLOAD_BYTES, TASK_DEFAULT_TIMEOUT_MS, TASK_MAX_ELEMENTS, TASK_MAX_TIMEOUT_MS } from '@swarm/contracts';
import type { BackendChoice } from '@swarm/kernels';
import { BACKEND_CHOICES, INLINE_MAX_WORK } from '@swarm/kernels';
import type { SkillName } from '@swarm/skills';
import { SKILL_NAMES, skillsNamedIn } from '@swarm/skills';

/** Tasks that may wait for a free kernel thread before requests are refused as OVERLOADED. */
export const DEFAULT_MAX_QUEUE = 32;
export const DEFAULT_MAX_ELEMENTS = TASK_MAX_ELEMENTS;
export const DEFAULT_MAX_TIMEOUT_MS = TASK_MAX_TIMEOUT_MS;
/** Used when a request says timeout 0 (no preference); capped at the configured maximum. */
export const DEFAULT_EXECUTE_TIMEOUT_MS = TASK_DEFAULT_TIMEOUT_MS;
export const MAX_REQUEST_BYTES = BUS_MAX_PAYLOAD_BYTES;
const MAX_THREADS = 256;
/** A run on the executor's thread cannot be stopped: even at this bound it takes a few ms. */
const MAX_INLINE_MAX_WORK = 1_000_000;

export interface ExecutorConfig extends ServiceConfig {
  readonly threads: number;
  readonly maxQueue: number;
  readonly maxElements: number;
  readonly maxTimeoutMs: number;
  readonly defaultTimeoutMs: number;
  readonly backend: BackendChoice;
  /** Largest task (its skill's work units) run on the service's thread, not a worker; 0: none. */
  readonly inlineMaxWork: number;
  readonly maxRequestBytes: number;
  /** The skills this executor advertises and runs, in catalog order; the registry routes by them. */
  readonly skills: readonly SkillName[];
}

/**
 * SWARM_SKILLS: a comma-separated subset of the catalog, all of it by default. Every replica of one
 * node's executor-svc must run the same set: they share one queue group, and the registry asks
 * whichever replica answers (docs/skills.md).
 */
const SKILL_LIST = new RegExp(`^\\s*(${SKILL_NAMES.join('|')})\\s*(,\\s*(${SKILL_NAMES.join('|')})\\s*)*$`);

export function loadExecutorConfig(env: Env, cpus = 1): ExecutorConfig {
  const v = loadEnv(env, {
    ...SERVICE_VARS,
    SWARM_EXECUTOR_THREADS: intVar({ default: Math.min(Math.max(1, cpus), MAX_THREADS), min: 1, max: MAX_THREADS }),
    SWARM_EXECUTOR_MAX_QUEUE: intVar({ default: DEFAULT_MAX_QUEUE, min: 0, max: 10_000 }),
    SWARM_EXECUTOR_MAX_ELEMENTS: intVar({ default: DEFAULT_MAX_ELEMENTS, min: 1, max: MAX_REQUEST_BYTES / 4 }),
    SWARM_EXECUTOR_MAX_TIMEOUT_MS: intVar({ default: DEFAULT_MAX_TIMEOUT_MS, min: 100, max: 3_600_000 }),
    SWARM_GPU_BACKEND: enumVar(BACKEND_CHOICES, 'auto'),
    SWARM_EXECUTOR_INLINE_MAX_WORK: intVar({ default: INLINE_MAX_WORK, min: 0, max: MAX_INLINE_MAX_WORK }),
    SWARM_SKILLS: stringVar({
      default: SKILL_NAMES.join(','),
      pattern: SKILL_LIST,
      describe: `a comma-separated list of known skills (${SKILL_NAMES.join(', ')}; default all)`,
    }),
  });
  return Object.freeze({
    ...toServiceConfig(v),
    threads: v.SWARM_EXECUTOR_THREADS,
    maxQueue: v.SWARM_EXECUTOR_MAX_QUEUE,
    maxElements: v.SWARM_EXECUTOR_MAX_ELEMENTS,
    maxTimeoutMs: v.SWARM_EXECUTOR_MAX_TIMEOUT_MS,
    defaultTimeoutMs: Math.min(DEFAULT_EXECUTE_TIMEOUT_MS, v.SWARM_EXECUTOR_MAX_TIMEOUT_MS),
    backend: v.SWARM_GPU_BACKEND,
    inlineMaxWork: v.SWARM_EXECUTOR_INLINE_MAX_WORK,
    maxRequestBytes: MAX_REQUEST_BYTES,
    skills: skillsNamedIn(v.SWARM_SKILLS),
  });
}
