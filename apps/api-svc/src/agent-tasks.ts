/**
 * Agents' tasks in flight and just finished. Every task goes to the router with an idempotency key
 * (the agent's, or one drawn here), so its id is known before the router answers
 * (keyedTaskId(account, key), as the router derives it): an async submit answers that id at once,
 * a retry with the same key joins the same task, and status and events work for sync tasks too.
 *
 * A retry joins only the same task: the key again with another skill, budget, replicas, shards or
 * inputs is refused as the router refuses it (submitFingerprint). When what is held is full, what
 * goes first is the finished tasks of the agent holding the most (its refusals first), so no agent
 * can push another's results out by flooding submits, and an agent alone keeps up to the whole.
 *
 * A task runs to its end whatever its HTTP client does: a client that disconnects mid-task leaves
 * the bus request running, so the router still pays or refunds, and the outcome waits here
 * (bounded in count, age and bytes) for a later GET. What the agent spent and how many tasks it
 * ran is the ledger's to count (agent-rules.ts AgentLedger), so a task api-svc never hears the end
 * of (it was killed meanwhile) still counts.
 */
import type { BusClient } from '@swarm/bus';
import { transportFailureOf } from '@swarm/bus';
import type { SubmitTaskRequest, SubmitTaskResponse, TaskStatusResponse } from '@swarm/contracts';
import { ErrorCode, isSwarmError, RouterSubmitAgent, RouterTaskAgent, SwarmError, TASK_DEFAULT_TIMEOUT_MS } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import { keyedTaskId, keyReusedError, submitFingerprint } from '@swarm/pipeline';
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

export const DEFAULT_TASK_LIMITS: AgentTaskLimits = Object.freeze({
  maxHeld: 2_000,
  maxRunningPerAgent: 64,
  retentionMs: 10 * 60_000,
  maxResultBytes: 256 * 1024 * 1024,
});

export type JobState = 'running' | 'done' | 'failed';

export interface TaskJob {
  readonly taskId: string;
  readonly agent: string;
  readonly account: string;
  readonly idempotencyKey: string;
  readonly state: JobState;
  readonly result: SubmitTaskResponse | undefined;
  readonly error: SwarmError | undefined;
  /**
   * Whether the router answered the submit (its result or its refusal): then its record says the
   * same. False while running, and when api-svc's own wait gave up (the router may run it on, and pay).
   */
  readonly answered: boolean;
  /** Resolves once the task ended (never rejects). */
  readonly ended: Promise<void>;
}

interface Job extends TaskJob {
  state: JobState;
  ended: Promise<void>;
  result: SubmitTaskResponse | undefined;
  error: SwarmError | undefined;
  answered: boolean;
  endedAt: number;
  bytes: number;
  /** Its outputs were let go to stay under maxResultBytes (its status stays). */
  outputsDropped: boolean;
  /** submitFingerprint of what it asked: a retry with the same key must ask the same. */
  readonly fingerprint: string;
}

export interface AgentTasksDeps {
  bus: BusClient;
  stopwatch: Stopwatch;
  log: Logger;
  /** A fresh idempotency key for a submit that names none. */
  newKey(): string;
  /** Whether the agent was revoked (its refunds go to the node, agent-rules.ts); none: never. */
  revoked?(agent: string): boolean;
  limits?: AgentTaskLimits;
}

export interface AgentTasks {
  /**
   * Starts the task, or joins the one with the same key (`joined`: its answer is a replay); `budget`
   * is final (the price when the agent gave none). INVALID_ARGUMENT for a key this agent used for
   * another task. `spentMs`: how long ago the request arrived; a new task's deadline counts from
   * then (the router gets what is left; DEADLINE_EXCEEDED, nothing sent, when nothing is).
   */
  submit(agent: AgentRecord, input: TaskInput, budget: bigint, spentMs?: number): { job: TaskJob; joined: boolean };
  /** The task as held here, if it is this agent's. */
  get(agent: AgentRecord, taskId: string): TaskJob | undefined;
  /** The router's view (its record, or the ledger's escrow): UNKNOWN for another agent's task. */
  status(agent: AgentRecord, taskId: string): Promise<TaskStatusResponse>;
  /** Tasks held now, and those running. */
  counts(): { held: number; running: number };
  /** Waits (at most graceMs) for running tasks, so their outcomes are held for a GET. */
  drain(graceMs: number): Promise<void>;
}

/**
 * The answer with each output's bytes in a buffer of their own: decoded, they are views into the
 * bus message's buffer, which holding them would keep whole (bytes the held-bytes bound never counts).
 */
function compacted(res: SubmitTaskResponse): SubmitTaskResponse {
  return { ...res, outputs: res.outputs.map((t) => ({ ...t, data: t.data.slice() })) };
}

/**
 * The answer to an agent revoked while its task ran: what the router refunded did not stay with it
 * (its closed account's refund went to the node, or the revoke returned it there), so the note says
 * so instead of leaving `refunded` to read as the agent's.
 */
function revokedAnswer(res: SubmitTaskResponse): SubmitTaskResponse {
  if (res.refunded === 0n) return res;
  const note = `this agent was revoked while the task ran: the ${res.refunded} credits refunded went to the node's account, not the agent's`;
  return { ...res, settlementNote: res.settlementNote ? `${res.settlementNote}; ${note}` : note };
}

export function createAgentTasks(deps: AgentTasksDeps): AgentTasks {
  const limits = deps.limits ?? DEFAULT_TASK_LIMITS;
  // Map keeps insertion order: iteration visits the oldest first.
  const jobs = new Map<string, Job>();
  let heldBytes = 0;

  const running = () => [...jobs.values()].filter((j) => j.state === 'running');

  /** `keep`: a task whose outputs stay whatever the bytes held (one that just ended). */
  function sweep(keep?: Job): void {
    const now = deps.stopwatch.now();
    for (const [id, j] of jobs) {
      if (j.state !== 'running' && now - j.endedAt > limits.retentionMs) forget(id, j);
    }
    // Only finished tasks can go (running ones are bounded by maxRunningPerAgent, and a retry must
    // find them); counted only when over the bound, not on every submit.
    if (jobs.size > limits.maxHeld) {
      const finished = finishedByAgent();
      while (jobs.size > limits.maxHeld && finished.size > 0) forgetOldestOf(mostFinished(finished), finished);
    }
    if (heldBytes <= limits.maxResultBytes) return;
    for (const j of byHeavyHoldersFirst()) {
      if (heldBytes <= limits.maxResultBytes) break;
      if (j !== keep && j.result && j.bytes > 0) {
        heldBytes -= j.bytes;
        j.bytes = 0;
        // The status stays; only the outputs go.
        j.result = { ...j.result, outputs: [] };
        j.outputsDropped = true;
      }
    }
  }

  function finishedByAgent(): Map<string, number> {
    const finished = new Map<string, number>();
    for (const j of jobs.values()) if (j.state !== 'running') finished.set(j.agent, (finished.get(j.agent) ?? 0) + 1);
    return finished;
  }

  function mostFinished(finished: ReadonlyMap<string, number>): string {
    let most = '';
    let count = 0;
    for (const [agent, n] of finished) if (n > count) [most, count] = [agent, n];
    return most;
  }

  /** Forgets one of the agent's finished tasks (it has one): its oldest refusal, else its oldest result. */
  function forgetOldestOf(agent: string, finished: Map<string, number>): void {
    let victim: [string, Job] | undefined;
    for (const entry of jobs) {
      const j = entry[1];
      if (j.agent !== agent || j.state === 'running') continue;
      victim ??= entry;
      if (j.state === 'failed') {
        victim = entry;
        break;
      }
    }
    if (victim) forget(victim[0], victim[1]);
    const left = (finished.get(agent) ?? 1) - 1;
    if (left > 0) finished.set(agent, left);
    else finished.delete(agent);
  }

  /** Held tasks, those of the agents holding the most result bytes first, each agent's oldest first. */
  function byHeavyHoldersFirst(): Job[] {
    const bytes = new Map<string, number>();
    for (const j of jobs.values()) bytes.set(j.agent, (bytes.get(j.agent) ?? 0) + j.bytes);
    return [...jobs.values()].sort((a, b) => (bytes.get(b.agent) ?? 0) - (bytes.get(a.agent) ?? 0));
  }

  function forget(id: string, j: Job): void {
    heldBytes -= j.bytes;
    jobs.delete(id);
  }

  async function run(job: Job, req: SubmitTaskRequest): Promise<void> {
    try {
      const res = await deps.bus.request(RouterSubmitAgent, req, { timeoutMs: (req.timeoutMs || TASK_DEFAULT_TIMEOUT_MS) + SUBMIT_REPLY_SLACK_MS });
      job.result = compacted(deps.revoked?.(job.agent) === true ? revokedAnswer(res) : res);
      job.bytes = resultBytes(res);
      heldBytes += job.bytes;
      job.endedAt = deps.stopwatch.now();
      job.answered = true;
      job.state = 'done';
      // Held bytes grow here: the bound holds from now, not from the next submit (which also
      // forgets what is past retention). Not at this task's cost: a sync caller reads its result as
      // soon as it ends.
      if (heldBytes > limits.maxResultBytes) sweep(job);
    } catch (err) {
      job.error = isSwarmError(err) ? err : new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'the task failed unexpectedly', false, { cause: err });
      if (!isSwarmError(err)) deps.log.error({ err, taskId: job.taskId }, 'agent task failed unexpectedly');
      job.endedAt = deps.stopwatch.now();
      // The router's own refusal, not the bus giving up on it (a timeout, no responder).
      job.answered = isSwarmError(err) && transportFailureOf(err) === undefined;
      job.state = 'failed';
    }
  }

  return {
    submit(agent, input, budget, spentMs = 0) {
      sweep();
      const idempotencyKey = input.idempotencyKey || deps.newKey();
      const taskId = keyedTaskId(agent.account, idempotencyKey);
      const known = jobs.get(taskId);
      // A task ended here whose answer cannot be given again is sent again: the router answers by its record.
      const sendAgain = known !== undefined && (known.state === 'failed' || known.outputsDropped);
      // Checked before hashing the inputs: a refusal costs no pass over them.
      if ((!known || sendAgain) && running().filter((j) => j.agent === agent.name).length >= limits.maxRunningPerAgent) {
        throw new SwarmError(ErrorCode.ERROR_CODE_RATE_LIMITED, `this agent already has ${limits.maxRunningPerAgent} tasks running; wait for one to end`, true, {
          retryAfterMs: 1_000,
        });
      }
      const req = agentSubmitRequest(input, agent.account, idempotencyKey, budget);
      // Drawn keys too: the 202 answer names the key, and the agent may send it again.
      const fingerprint = submitFingerprint(req);
      // Running or done: the same task (its held result answers), if it asks the same. Failed, or its
      // outputs let go (a "verified" answer with none was given, helper-178): sent again, and the
      // router answers a task it already ran by its record (its result, or TASK_RESULT_GONE), never
      // running it twice.
      if (known && known.state !== 'failed' && known.fingerprint !== fingerprint) throw keyReusedError(taskId);
      if (known && !sendAgain) return { job: known, joined: true };
      // A timeout the agent gave counts from the request's arrival; none (0) is the router's default, from its own.
      if (input.timeoutMs > 0) {
        const leftMs = Math.floor(input.timeoutMs - spentMs);
        if (leftMs < 1) {
          throw new SwarmError(
            ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
            `receiving and checking the task took ${Math.round(spentMs)} ms, its whole ${input.timeoutMs} ms timeout; nothing was sent or charged`,
            // An answer, not a lost reply: a client that retries those by key must not run it anew.
            false,
          );
        }
        req.timeoutMs = leftMs;
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
        answered: false,
        endedAt: 0,
        bytes: 0,
        outputsDropped: false,
        fingerprint,
      };
      jobs.set(taskId, job);
      // run() answers every outcome itself and never rejects.
      job.ended = run(job, req);
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
