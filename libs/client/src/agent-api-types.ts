/**
 * What the agent HTTP API answers (api-svc's schemas, served at /openapi.json), as the SDK hands it
 * to callers: credits as bigint (the wire sends uint64 as decimal strings) and tensors as
 * Float32Array (the wire sends numbers or base64 of little-endian f32).
 */
import type { DenseTensor } from '@swarm/contracts';

export interface NamedShape {
  readonly name: string;
  /** Dimension names, e.g. ["n", "k"]. */
  readonly shape: readonly string[];
}

export interface AgentSkill {
  readonly name: string;
  readonly description: string;
  readonly inputs: readonly NamedShape[];
  readonly outputs: readonly NamedShape[];
  readonly pricePerMwork: bigint;
  readonly verification: string;
  readonly verificationBound: string;
  readonly verificationCost: string;
}

export interface AgentSkills {
  readonly backend: string;
  /** Largest element count of all of a task's inputs together. */
  readonly maxElements: number;
  readonly skills: readonly AgentSkill[];
}

export interface TaskQuote {
  readonly skill: string;
  readonly price: bigint;
  readonly pricePerMwork: bigint;
  /** Work units (floating-point operations). */
  readonly work: number;
  readonly maxElements: number;
}

/** A task's input: values as a Float32Array (sent as base64) or plain numbers. */
export interface InputTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | readonly number[];
}

export interface AgentTask {
  readonly skill: string;
  readonly inputs: readonly InputTensor[];
  /** Most credits to pay; default the quoted price. */
  readonly budget?: bigint;
  /** The task's deadline on the node; default the router's. */
  readonly timeoutMs?: number;
  /** The same key again is the same task (never run or paid twice); default a random one. */
  readonly idempotencyKey?: string;
  /**
   * How many different providers run it (1..5; default one). With K >= 2 every replica is verified
   * and compared, the budget must cover K times the price, and the agreeing replicas share the pay.
   */
  readonly redundancy?: number;
  /**
   * matmul only: split `a` into this many row blocks (2..16, at most its rows; default one piece),
   * each run on a provider and verified; paid only for the whole product, at its price, each
   * provider by its blocks' share of the work. Not with redundancy.
   */
  readonly shards?: number;
}

export interface TaskTiming {
  readonly escrowMs: number;
  readonly executeMs: number;
  readonly verifyMs: number;
  readonly settleMs: number;
  readonly totalMs: number;
}

/** What one replica of a redundant task (redundancy >= 2), or one provider of a sharded one (shards >= 2), did and was paid. */
export interface TaskContribution {
  readonly providerId: string;
  readonly executorId: string;
  /** Verified and in agreement with the result returned. */
  readonly counted: boolean;
  /** Its share of the pool by Shapley value; 0 when not counted. */
  readonly paid: bigint;
  /** Its Shapley value as a share of the pool, 0..1. */
  readonly share: number;
  /** Why it was not counted (empty when counted). */
  readonly note: string;
  readonly executeMs: number;
}

export interface TaskResult {
  readonly taskId: string;
  readonly outputs: readonly DenseTensor[];
  readonly cost: bigint;
  readonly refunded: bigint;
  /** The paying account (`agent/<name>`). */
  readonly account: string;
  /** Node id of the provider that ran it, and was paid. */
  readonly providerId: string;
  readonly executorId: string;
  readonly backend: string;
  /** How the result was checked (e.g. "freivalds: …"); the router never returns an unverified result. */
  readonly verification: string;
  readonly attempts: number;
  /** TASK_STATE_PAID, or TASK_STATE_REFUNDED when the node could not settle and gave the credit back. */
  readonly settlement: string;
  readonly settlementNote: string;
  readonly timing: TaskTiming;
  /** One per replica that returned something, when the task ran redundantly; absent otherwise. */
  readonly contributions?: readonly TaskContribution[];
  /** One per row block, when the task was sharded; absent otherwise. */
  readonly shards?: readonly TaskShard[];
  /** True when this is the recorded answer of an earlier submit with the same idempotency key (not run or charged again); absent otherwise. */
  readonly replayed?: boolean;
  /** Why the task ran where it did when the usual choice was not open (e.g. only on the node's own executors); absent otherwise. */
  readonly placementNote?: string;
}

/** Who computed one row block of a sharded matmul (shards >= 2). */
export interface TaskShard {
  readonly index: number;
  /** Rows [rowStart, rowEnd) of `a` and of the result. */
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly providerId: string;
  readonly executorId: string;
  /** Dispatches the block took (more than 1 when a result was wrong, late or missing). */
  readonly attempts: number;
  /** Its share of the work, and so of the pay, 0..1. */
  readonly share: number;
  readonly executeMs: number;
}

export interface TaskErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

export interface TaskStatus {
  readonly taskId: string;
  /** TASK_STATE_RUNNING, _PAID, _REFUNDED, _REJECTED or _UNKNOWN. */
  readonly state: string;
  readonly cost: bigint;
  readonly refunded: bigint;
  readonly error?: TaskErrorInfo;
  readonly providerId: string;
  /** Who answered: router, ledger, or api (the API still holds the task). */
  readonly source: string;
  readonly attempts: number;
  readonly note: string;
  /** The result, while the API still holds it (api-svc keeps results about 10 minutes). */
  readonly result?: TaskResult;
  /**
   * An event stream's last event only: the result is held but was not attached (this agent had
   * results handed back too often lately); a GET of the task after this many ms gets it.
   */
  readonly resultRetryAfterMs?: number;
}

/** An async submit's answer: the task runs on; follow it by id. */
export interface TaskAccepted {
  readonly taskId: string;
  readonly idempotencyKey: string;
}

export interface AgentBalance {
  readonly account: string;
  readonly available: bigint;
  readonly escrowed: bigint;
  readonly budget: bigint;
  readonly spent: bigint;
  readonly tasks: bigint;
}

export interface AgentPeer {
  readonly nodeId: string;
  readonly address: string;
  readonly rttMs: number;
  readonly lastSeenMs: bigint;
}

/** A task's progress as the events stream reports it; `done` and `failed` are the last. */
export type TaskEvent =
  | { readonly type: 'accepted'; readonly taskId: string }
  | { readonly type: 'running'; readonly taskId: string }
  | { readonly type: 'done'; readonly taskId: string; readonly status: TaskStatus }
  | { readonly type: 'failed'; readonly taskId: string; readonly status: TaskStatus };
