/**
 * Agents' tasks in flight and just finished. Every task goes to the router with an idempotency key
 * (the agent's, or one drawn here), so its id is known before the router answers
 * (keyedTaskId(account, key), as the router derives it): an async submit answers that id at once,
 * a retry with the same key joins the same task, and status and events work for sync tasks too.
 *
 * A task runs to its end whatever its HTTP client does: a client that disconnects mid-task leaves
 * the bus request running, so the router still pays or refunds, and the outcome waits here
 * (bounded in count, age and bytes) for a later GET. What the agent spent and how many tasks it
 * ran is the ledger's to count (agent-rules.ts AgentLedger), so a task api-svc never hears the end
 * of (it was killed meanwhile) still counts.
 */
import type { BusClient } from '@swarm/bus';
import type { SubmitTaskResponse, TaskStatusResponse } from '@swarm/contracts';
import { ErrorCode, isSwarmError, RouterSubmitAgent, RouterTaskAgent, SwarmError, TASK_DEFAULT_TIMEOUT_MS } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import { keyedTaskId } from '@swarm/pipeline';
import type { Logger } from '@swarm/telemetry';
import type { AgentRecord } from './agent-rules';
import type { TaskInput } from './task-input';
import { agentSubmitRequest, resultBytes } from './task-input';

/** The router's own deadline limits the task; the request waits a little longer so its answer arrives. */
export const SUBMIT_REPLY_SLACK_MS = 2_000;
/** A status the router no longer holds comes from the ledger (up to ~5 s). */
export const TASK_STATUS_TIMEOUT_MS = 10_000;

export interface AgentTaskLimits {
  /** Tasks held (running or finished) across agents. */
  readonly maxHeld: number;
  /** Tasks one agent may have running at once through this API. */
  readonly maxRunningPerAgent: number;
  /** How long a finished task's result waits for a GET. */
  readonly retentionMs: number;
  /** Result bytes held across tasks; past it the oldest results go (their status stays). */
  readonly maxResultBytes: number;
}

export const DEFAULT_TASK_LIMITS: AgentTaskLimits = Object.freeze({ maxHeld: 2_000, maxRunningPerAgent: 64, retentionMs: 10 * 60_000, maxResultBytes: 256 * 1024 * 1024 });

export type JobState = 'running' | 'done' | 'failed';

export interface TaskJob {
  readonly taskId: string;
  readonly agent: string;
  readonly account: string;
  readonly idempotencyKey: string;
  readonly state: JobState;
  readonly result: SubmitTaskResponse | undefined;
  readonly error: SwarmError | undefined;
  /** Resolves once the task ended (never rejects). */
  readonly ended: Promise<void>;
}

interface Job extends TaskJob {
  state: JobState;
  ended: Promise<void>;
  result: SubmitTaskResponse | undefined;
  error: SwarmError | undefined;
  endedAt: number;
  bytes: number;
}

export interface AgentTasksDeps {
  bus: BusClient;
  stopwatch: Stopwatch;
  log: Logger;
  /** A fresh idempotency key for a submit that names none. */
  newKey(): string;
  limits?: AgentTaskLimits;
}

export interface AgentTasks {
  /** Starts the task, or joins the one with the same key; `budget` is final (the price when the agent gave none). */
  submit(agent: AgentRecord, input: TaskInput, budget: bigint): { job: TaskJob; joined: boolean };
  /** The task as held here, if it is this agent's. */
  get(agent: AgentRecord, taskId: string): TaskJob | undefined;
  /** The router's view (its record, or the ledger's escrow): UNKNOWN for another agent's task. */
  status(agent: AgentRecord, taskId: string): Promise<TaskStatusResponse>;
  /** Tasks held now, and those running. */
  counts(): { held: number; running: number };
  /** Waits (at most graceMs) for running tasks, so their outcomes are held for a GET. */
  drain(graceMs: number): Promise<void>;
}

export function createAgentTasks(deps: AgentTasksDeps): AgentTasks {
  const limits = deps.limits ?? DEFAULT_TASK_LIMITS;
  // Map keeps insertion order: iteration visits the oldest first.
  const jobs = new Map<string, Job>();
  let heldBytes = 0;

  const running = () => [...jobs.values()].filter((j) => j.state === 'running');

  function sweep(): void {
    const now = deps.stopwatch.now();
    for (const [id, j] of jobs) {
      if (j.state !== 'running' && now - j.endedAt > limits.retentionMs) forget(id, j);
    }
    for (const [id, j] of jobs) {
      if (jobs.size <= limits.maxHeld) break;
      if (j.state !== 'running') forget(id, j);
    }
    for (const j of jobs.values()) {
      if (heldBytes <= limits.maxResultBytes) break;
      if (j.result && j.bytes > 0) {
        heldBytes -= j.bytes;
        j.bytes = 0;
        // The status stays; only the outputs go.
        j.result = { ...j.result, outputs: [] };
      }
    }
  }

  function forget(id: string, j: Job): void {
    heldBytes -= j.bytes;
    jobs.delete(id);
  }

  async function run(job: Job, input: TaskInput, budget: bigint): Promise<void> {
    const req = agentSubmitRequest(input, job.account, job.idempotencyKey, budget);
    try {
      const res = await deps.bus.request(RouterSubmitAgent, req, { timeoutMs: (req.timeoutMs || TASK_DEFAULT_TIMEOUT_MS) + SUBMIT_REPLY_SLACK_MS });
      job.result = res;
      job.bytes = resultBytes(res);
      heldBytes += job.bytes;
      job.endedAt = deps.stopwatch.now();
      job.state = 'done';
    } catch (err) {
      job.error = isSwarmError(err) ? err : new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'the task failed unexpectedly', false, { cause: err });
      if (!isSwarmError(err)) deps.log.error({ err, taskId: job.taskId }, 'agent task failed unexpectedly');
      job.endedAt = deps.stopwatch.now();
      job.state = 'failed';
    }
  }

  return {
    submit(agent, input, budget) {
      sweep();
      const idempotencyKey = input.idempotencyKey || deps.newKey();
      const taskId = keyedTaskId(agent.account, idempotencyKey);
      const known = jobs.get(taskId);
      // Running or done: the same task (its held result answers). Failed: sent again, and the
      // router answers a task it already ran by its record, never running it twice.
      if (known && known.state !== 'failed') return { job: known, joined: true };
      if (running().filter((j) => j.agent === agent.name).length >= limits.maxRunningPerAgent) {
        throw new SwarmError(ErrorCode.ERROR_CODE_RATE_LIMITED, `this agent already has ${limits.maxRunningPerAgent} tasks running; wait for one to end`, true, {
          retryAfterMs: 1_000,
        });
      }
      if (known) forget(taskId, known);
      const job: Job = {
        taskId,
        agent: agent.name,
        account: agent.account,
        idempotencyKey,
        state: 'running',
        result: undefined,
        error: undefined,
        ended: Promise.resolve(),
        endedAt: 0,
        bytes: 0,
      };
      jobs.set(taskId, job);
      // run() answers every outcome itself and never rejects.
      job.ended = run(job, input, budget);
      return { job, joined: false };
    },
    get(agent, taskId) {
      const j = jobs.get(taskId);
      return j && j.agent === agent.name ? j : undefined;
    },
    status: (agent, taskId) => deps.bus.request(RouterTaskAgent, { taskId, idempotencyKey: '', account: agent.account }, { timeoutMs: TASK_STATUS_TIMEOUT_MS }),
    counts: () => ({ held: jobs.size, running: running().length }),
    async drain(graceMs) {
      const pending = running().map((j) => j.ended);
      if (pending.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(pending), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    },
  };
}
