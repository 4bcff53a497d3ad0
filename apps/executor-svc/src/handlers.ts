/** Per subject: validate -> kernel pool -> reply. A bad request is refused before any kernel runs. */
import type { ExecuteRequest, ExecuteResponse, ListSkillsRequest, ListSkillsResponse } from '@swarm/contracts';
import { decodeTensors, ErrorCode, SwarmError, toTensor } from '@swarm/contracts';
import type { Handler } from '@swarm/bus';
import type { KernelPool } from '@swarm/kernels';
import { getSkill, listSkills, skillInfo } from '@swarm/skills';

export interface ExecuteLimits {
  readonly maxElements: number;
  readonly maxTimeoutMs: number;
  readonly defaultTimeoutMs: number;
}

export interface ExecuteDeps {
  readonly pool: KernelPool;
  readonly limits: ExecuteLimits;
  /** The skills this executor runs (SWARM_SKILLS); others known to the catalog are refused. */
  readonly skills: readonly string[];
  readonly executorId: string;
  /** This node's id: who gets paid for the work. */
  readonly providerId: string;
}

export function executeHandler(deps: ExecuteDeps): Handler<ExecuteRequest, ExecuteResponse> {
  const { pool, limits } = deps;
  return async (req) => {
    const skill = getSkill(req.skill);
    if (!deps.skills.includes(skill.name)) {
      // Retryable: another executor may run it (the registry lists this node only for the skills its
      // executors advertise, so only a replica configured unlike its peers gets here).
      throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, `this executor does not run ${skill.name}; it runs ${deps.skills.join(', ')}`);
    }
    const timeoutMs = resolveTimeout(req.timeoutMs, limits);
    const inputs = decodeTensors(req.inputs);
    skill.validate(inputs, { maxElements: limits.maxElements });
    const run = await pool.run(skill.name, inputs, { timeoutMs });
    return {
      taskId: req.taskId,
      outputs: run.outputs.map((o) => toTensor(o.name, o.shape, o.data)),
      executorId: deps.executorId,
      providerId: deps.providerId,
      backend: run.backend,
      executeMs: run.executeMs,
    };
  };
}

/** Only the installed skills: what the registry routes by. */
export function skillsHandler(pool: KernelPool, skills: readonly string[]): Handler<ListSkillsRequest, ListSkillsResponse> {
  const installed = listSkills()
    .filter((s) => skills.includes(s.name))
    .map(skillInfo);
  return () => ({ skills: installed, backend: pool.backend });
}

/** Health details: read at each request, so they show the load right now. */
export function healthDetails(pool: KernelPool, executorId: string, skills: readonly string[]): () => Record<string, string> {
  return () => {
    const s = pool.stats();
    return {
      executorId,
      skills: skills.join(','),
      backend: s.backend,
      threads: String(s.threads),
      running: String(s.running),
      queued: String(s.queued),
      completed: String(s.completed),
      failed: String(s.failed),
      timedOut: String(s.timedOut),
      overloaded: String(s.overloaded),
      inlineRuns: String(s.inlineRuns),
      inlineCompiles: String(s.inlineCompiles),
    };
  };
}

/** 0 means "no preference": the configured default. */
export function resolveTimeout(requested: number, limits: ExecuteLimits): number {
  if (requested === 0) return limits.defaultTimeoutMs;
  if (!Number.isInteger(requested) || requested < 0 || requested > limits.maxTimeoutMs) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `timeout_ms must be 0 (default ${limits.defaultTimeoutMs}) or in [1, ${limits.maxTimeoutMs}], got ${requested}`);
  }
  return requested;
}
