import type { DenseTensor, Tensor } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Candidate } from '@swarm/scoring';
import type { Verdict } from '@swarm/skills';

/**
 * Waits `ms` on the caller's clock; resolves early (never rejects) when `signal` aborts. Injected
 * so the pipeline sets no timers: a virtual clock (tests, the simulator) drives it.
 */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface ExecutionResult {
  readonly outputs: Tensor[];
  readonly providerId: string;
  readonly executorId: string;
  readonly backend: string;
  /** A remote provider's raw Ed25519 key (its signed result's): the receipt that pays it names it. */
  readonly providerKey?: Uint8Array;
  /** A remote provider's serve ticket (libs/records serve-ticket.ts): the receipt that pays it carries it. */
  readonly serveTicket?: Uint8Array;
}

/** A remote payee's key and serve ticket, for its receipt. */
export interface PayeeKey {
  readonly publicKey: Uint8Array;
  readonly serveTicket: Uint8Array;
}

/**
 * What a settle's receipts name when it pays other nodes (docs/chain.md): the task's inputs and the
 * verified result it returns (the port hashes them), and the key of each remote payee.
 */
export interface SettleFacts {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly payeeKeys: ReadonlyMap<string, PayeeKey>;
}

/**
 * The keys and tickets of the remote providers among `results`, for SettleFacts. One provider's
 * results for one task (several shards) each carry a ticket for the requester and the task, with
 * that block's cap; the last one taken does for the one receipt (its cap allows for every block).
 */
export function payeeKeysOf(results: readonly ExecutionResult[]): Map<string, PayeeKey> {
  const keys = new Map<string, PayeeKey>();
  for (const r of results) if (r.providerKey) keys.set(r.providerId, { publicKey: r.providerKey, serveTicket: r.serveTicket ?? new Uint8Array(0) });
  return keys;
}

/** The router's I/O, injected so the pipeline stays free of NATS and runs in tests and the simulator. */
export interface TaskPorts {
  // Function-valued properties, not methods: a port is a plain function that callers may pass on
  // or wrap unbound (the router's submit handler wraps `reserve`), so it must not rely on `this`.
  /**
   * `expiresAtMs` (ms since epoch): when the ledger refunds the escrow by itself if it is still open.
   * `payees`: the only node ids a settle of it may pay (credit.proto, 1 to ESCROW_MAX_PAYEES): the
   * candidates the task may be dispatched to; empty when none is known (the task then fails with
   * NO_PROVIDER and is refunded, so the port may name any placeholder, e.g. its own node).
   */
  reserve: (escrowId: string, account: string, amount: bigint, expiresAtMs: number, payees: readonly string[]) => Promise<void>;
  /**
   * Pays `payouts` (1 to ESCROW_MAX_PAYEES, each to a different payee named at reserve time, each
   * > 0) out of the escrow and refunds the rest to its payer, in one commit. Idempotent: the same
   * payouts again answer the same result.
   */
  settle: (escrowId: string, payouts: readonly Payout[], facts?: SettleFacts) => Promise<{ paid: bigint; refunded: bigint }>;
  refund: (escrowId: string) => Promise<{ refunded: bigint }>;
  /**
   * Reserves and settles at once (credit.proto ChargeRequest): `amount` from `account`, `payouts`
   * paid and the rest refunded, the escrow born settled. Only for payees on this node. Refused
   * (DEADLINE_EXCEEDED) if the ledger reads it after `notAfterMs`. Idempotent like settle.
   * Rejects with ChargeNotServed when the ledger answers but serves no charge: it never got it.
   */
  charge: (escrowId: string, account: string, amount: bigint, payouts: readonly Payout[], notAfterMs: number) => Promise<{ paid: bigint; refunded: bigint }>;
  /**
   * The ledger's view of an escrow: how (and whether) it closed, whoever closed it. `afterWrites`:
   * once every ledger operation sent before it is written (credit.proto EscrowRequest).
   */
  escrow: (escrowId: string, afterWrites?: boolean) => Promise<EscrowView>;
  /** Who offers `skill` now (this node's executors, remote providers); the selector picks among them. */
  findProviders: (skill: string, signal: AbortSignal) => Promise<Candidate[]>;
  execute: (candidate: Candidate, task: { taskId: string; skill: string; inputs: Tensor[]; timeoutMs: number }, signal: AbortSignal) => Promise<ExecutionResult>;
}

/** Credit a settle pays one payee. */
export interface Payout {
  readonly payee: string;
  readonly amount: bigint;
}

export interface EscrowView {
  readonly state: 'none' | 'open' | 'settled' | 'refunded';
  /** The account that reserved it ('' for none): who pays for the task. */
  readonly payer: string;
  readonly paid: bigint;
  readonly refunded: bigint;
  readonly payee: string;
  /** When the ledger refunds it by itself while open (ms since epoch; 0 for none). */
  readonly expiresAtMs: number;
  /** Each node paid, when settled (one or several); left out by views that do not know them. */
  readonly payouts?: ReadonlyArray<{ readonly payee: string; readonly amount: bigint }>;
}

/**
 * Checks a result against its task's inputs. A service may run it on worker threads: a large
 * verification then no longer stalls the event loop that reads (and refuses) new requests.
 */
export interface ResultVerifier {
  verify(skill: string, inputs: DecodedInputs, outputs: Tensor[]): Promise<Verdict>;
}

export interface TaskRequest {
  readonly taskId: string;
  readonly skill: string;
  readonly inputs: Tensor[];
  readonly budget: bigint;
  /** Absolute deadline (ms since epoch) for the whole task, counted from when the request arrived. */
  readonly deadlineMs: number;
  readonly account: string;
  /**
   * How many different providers run the task: undefined, 0 or 1 mean one (run-task.ts); 2 to
   * TASK_MAX_REDUNDANCY run it on that many nodes and pay the agreeing ones (run-replicated.ts).
   */
  readonly redundancy?: number;
  /**
   * Row blocks of a sharded matmul: undefined, 0 or 1 mean none; 2 to TASK_MAX_SHARDS split `a`
   * into that many blocks, each run on a provider and verified (run-sharded.ts).
   */
  readonly shards?: number;
  /**
   * The client can learn the outcome later (it sent an idempotency key), so a verified result is
   * paid past the deadline, until shortly before the escrow's expiry; otherwise only until the
   * deadline (the settle signal the caller passes ends the retries; a charge is refused after).
   */
  readonly paysPastDeadline?: boolean;
}

export interface AttemptRecord {
  readonly providerId: string;
  readonly executorId: string;
  /**
   * 'rejected': proven wrong (its check or the referee refuted it, or its signature was refused), as
   * the trust book's 'rejected-by-verification'; 'failed': anything else that did not count, a result
   * that failed its check without proof included.
   */
  readonly outcome: 'verified' | 'rejected' | 'failed';
  readonly detail: string;
}

export interface TaskOutcome {
  readonly taskId: string;
  /**
   * How the escrow closed. 'paid': `cost` went to the provider. 'refunded': settle kept failing
   * until shortly before the escrow's expiry, so the verified outputs are returned unpaid (cost 0).
   */
  readonly settlement: 'paid' | 'refunded';
  /** Empty when paid at the first try; otherwise what happened to the settle, in words. */
  readonly settlementNote: string;
  /**
   * The router could not learn how the escrow closed (credit-svc unreachable to the end): the
   * ledger refunds it at its expiry unless a settle whose reply was lost committed first.
   */
  readonly settlementUncertain: boolean;
  readonly outputs: Tensor[];
  readonly cost: bigint;
  readonly refunded: bigint;
  readonly providerId: string;
  readonly executorId: string;
  readonly backend: string;
  readonly verification: string;
  readonly attempts: readonly AttemptRecord[];
  /**
   * With redundancy: from the first dispatch to the last verdict (executeMs, replicas overlap), the
   * verifications summed (verifyMs).
   */
  readonly timing: { escrowMs: number; executeMs: number; verifyMs: number; settleMs: number; totalMs: number };
  /**
   * One per replica that returned outputs, in the order they arrived (redundancy >= 2), or per
   * provider node that returned a block, with its pay for all of them (shards >= 2); else empty.
   */
  readonly contributions: readonly Contribution[];
  /** One per row block of a sharded task, in row order (shards >= 2; else empty). */
  readonly shards: readonly ShardRecord[];
  /** Why it ran where it did when the usual choice was not open (settlement.ts LOCAL_ONLY_NOTE); else empty. */
  readonly placementNote: string;
}

/** Who computed one row block of a sharded matmul (task.proto ShardResult). */
export interface ShardRecord {
  readonly index: number;
  /** Rows [rowStart, rowEnd) of `a` and `c`. */
  readonly rowStart: number;
  readonly rowEnd: number;
  /** The node and executor whose verified result is used. */
  readonly providerId: string;
  readonly executorId: string;
  /** Dispatches this block took. */
  readonly attempts: number;
  /** Its value in the shard game as a share of the pool, 0..1 (its work over the whole product's). */
  readonly share: number;
  readonly executeMs: number;
}

/** What one replica of a redundant task, or one provider of a sharded one, returned and was paid (task.proto Contribution). */
export interface Contribution {
  readonly providerId: string;
  readonly executorId: string;
  /** Verified, in time, and in agreement with the result returned. */
  readonly counted: boolean;
  /** Credits paid to it by the settle (0 when not counted, or when the settle did not go through). */
  readonly paid: bigint;
  /** Its Shapley value in the replica game as a share of the pool, 0..1. */
  readonly share: number;
  /** Why it was not counted; empty when counted. */
  readonly note: string;
  readonly executeMs: number;
}

export type DecodedInputs = DenseTensor[];

/**
 * A charge no ledger received: the bus delivered it to nobody while credit-svc answers other
 * requests, so credit-svc is older than the charge (credit.proto ChargeRequest). Not retryable: the
 * same charge again goes nowhere; the task pays its verified result through an escrow instead.
 */
export class ChargeNotServed extends SwarmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ERROR_CODE_UNAVAILABLE, message, false, options);
    this.name = 'ChargeNotServed';
  }
}

/**
 * `retryable` of a task's own deadline failures (ran out of time, or had none left to start): an
 * answer, not a lost reply. The same task with the same timeout would run out again, and a client
 * that retries lost replies by key must not take it for one and run the task a second time.
 */
export const NOT_AGAIN = false;
