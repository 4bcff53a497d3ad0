import type { DenseTensor, Tensor } from '@swarm/contracts';

/** A provider the router may dispatch to (this issue: the node's own executor queue group). */
export interface Candidate {
  readonly nodeId: string;
  readonly local: boolean;
}

export interface ExecutionResult {
  readonly outputs: Tensor[];
  readonly providerId: string;
  readonly executorId: string;
  readonly backend: string;
}

/** The router's I/O, injected so the pipeline stays free of NATS and runs in tests and the simulator. */
export interface TaskPorts {
  /** `expiresAtMs` (ms since epoch): when the ledger refunds the escrow by itself if it is still open. */
  reserve(escrowId: string, account: string, amount: bigint, expiresAtMs: number): Promise<void>;
  settle(escrowId: string, payee: string, amount: bigint): Promise<{ paid: bigint; refunded: bigint }>;
  refund(escrowId: string): Promise<{ refunded: bigint }>;
  findProviders(skill: string, signal: AbortSignal): Promise<Candidate[]>;
  execute(
    candidate: Candidate,
    task: { taskId: string; skill: string; inputs: Tensor[]; timeoutMs: number },
    signal: AbortSignal,
  ): Promise<ExecutionResult>;
}

export interface TaskRequest {
  readonly taskId: string;
  readonly skill: string;
  readonly inputs: Tensor[];
  readonly budget: bigint;
  readonly timeoutMs: number;
  readonly account: string;
}

export interface AttemptRecord {
  readonly providerId: string;
  readonly executorId: string;
  readonly outcome: 'verified' | 'rejected' | 'failed';
  readonly detail: string;
}

export interface TaskOutcome {
  readonly taskId: string;
  readonly outputs: Tensor[];
  readonly cost: bigint;
  readonly refunded: bigint;
  readonly providerId: string;
  readonly executorId: string;
  readonly backend: string;
  readonly verification: string;
  readonly attempts: readonly AttemptRecord[];
  readonly timing: { escrowMs: number; executeMs: number; verifyMs: number; settleMs: number; totalMs: number };
}

export type DecodedInputs = DenseTensor[];
