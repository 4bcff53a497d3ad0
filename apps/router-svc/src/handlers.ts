import type { Handler, HandlerContext } from '@swarm/bus';
import { DEADLINE_HEADER, toWire } from '@swarm/bus';
import type { SubmitTaskRequest, SubmitTaskResponse, TaskStatusRequest, TaskStatusResponse } from '@swarm/contracts';
import { Contribution, ErrorCode, errorCodeName, IDEMPOTENCY_KEY_TEXT, isIdempotencyKey, isSwarmError, SwarmError, TaskState } from '@swarm/contracts';
import type { Scheduler } from '@swarm/determinism';
import type { Admission, EscrowView, RouterComponents, RouterLimits, TaskOutcome, TaskPorts, TaskRecord, TaskTable } from '@swarm/pipeline';
import type { RateLimiter } from '@swarm/rate-limit';
import { keyedTaskId, keyReusedError, runTask, submitBytes, submitFingerprint } from '@swarm/pipeline';
import type { TraceContext } from '@swarm/telemetry';
import { capForLog } from '@swarm/telemetry';
import type { MsgHdrs } from 'nats';
import type { RouterConfig } from './config';
import type { TaskAccounts } from './task-accounts';

export interface SubmitDeps {
  components: RouterComponents;
  /** The components' ports with their requests in the task's trace; default: the ports as they are. */
  portsIn?: (trace: TraceContext) => TaskPorts;
  limits: RouterLimits;
  config: RouterConfig;
  admission: Admission;
  /** Whose credit this subject's submits spend and whose tasks its status requests see. */
  accounts: TaskAccounts;
  /** Turns the task's wall-clock deadline into the signal that ends it. */
  scheduler: Pick<Scheduler, 'deadlineSignal'>;
  newTaskId(): string;
  /** What clients were told: keyed retries and status requests answer from it. */
  tasks: TaskTable<SubmitTaskResponse>;
  /** Aborted when the router stops: in-flight tasks end early and refund before NATS drains. */
  shutdown: AbortSignal;
  /** Told about each request turned away at intake (no task was started). */
  onRefused(err: SwarmError): void;
  /** Told about each request that reached the router after its client's deadline (nobody waits). */
  onArrivedLate(): void;
  /** Told about each reply sent after its requester's deadline (it most likely waited in vain). */
  onAnsweredLate(): void;
  /** `trace`: the task's, for the event the router publishes. */
  onFinished(taskId: string, skill: string, outcome: { ok: true; cost: bigint; totalMs: number } | { ok: false; error: unknown; totalMs: number }, trace: TraceContext): void;
}

/**
 * How long before its requester's deadline (the `swarm-deadline` header) a task ends, so that its
 * answer, sent over a possibly busy bus, still reaches a requester that is waiting.
 */
export const REPLY_MARGIN_MS = 500;

/** Task ids the router hands out: `task-` + a UUID or 32 hex (keyed); anything else is unknown. */
const TASK_ID_PATTERN = /^task-[0-9a-f-]{32,36}$/;

export function submitHandler(deps: SubmitDeps): Handler<SubmitTaskRequest, SubmitTaskResponse> {
  const { clock } = deps.components;
  const watch = deps.components.stopwatch ?? clock;
  const handle = async (req: SubmitTaskRequest, ctx: HandlerContext, requesterDeadline: number | undefined): Promise<SubmitTaskResponse> => {
    // The deadline counts from arrival, so any wait inside the router is part of it.
    const receivedAt = clock.now();
    const account = deps.accounts.payer(req.account);
    if (req.taskId) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, "task ids are assigned by the router; leave 'taskId' empty");
    }
    const key = req.idempotencyKey;
    if (key && !isIdempotencyKey(key)) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `idempotencyKey must be ${IDEMPOTENCY_KEY_TEXT}, got ${key.length} character(s)`);
    }
    if (req.timeoutMs > deps.config.maxTimeoutMs) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `timeoutMs must be at most ${deps.config.maxTimeoutMs}`);
    }
    if (requesterDeadline !== undefined && receivedAt >= requesterDeadline) {
      // The request spent its client's whole wait in transit (queued in the sender, nats-server or
      // the socket): nothing can answer that client in time. Counted, so a flood's silent requests
      // can be told from requests the router read in time and failed to answer.
      deps.onArrivedLate();
      // Not retryable: an answer, not a lost reply; the same request again is as late (a client that
      // retries lost replies by key must not take it for one and run the task past its timeout).
      throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `the request arrived ${receivedAt - requesterDeadline} ms after its deadline; nothing was reserved`, false);
    }
    if (requesterDeadline !== undefined && receivedAt > requesterDeadline - REPLY_MARGIN_MS) {
      // Too little of the wait is left to run anything and still be heard: say so at once.
      throw new SwarmError(
        ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
        `the request arrived ${requesterDeadline - receivedAt} ms before its deadline, too late to run; nothing was reserved`,
        false,
      );
    }
    // The task ends early enough for its answer to reach a requester that is still waiting.
    const deadlineMs = Math.min(receivedAt + (req.timeoutMs || deps.config.defaultTimeoutMs), (requesterDeadline ?? Infinity) - REPLY_MARGIN_MS);
    // A key names one task for good: its id (= escrow id) is derived from it, so even a restarted
    // router maps a retry onto the same escrow and can ask the ledger what became of it.
    const taskId = key ? keyedTaskId(account, key) : deps.newTaskId();

    // A retry of a task this router knows joins it (running) or gets its recorded answer, without
    // taking an admission slot. A REJECTED record was paid nothing (a folded run whose charge was
    // refused or never committed may have run), so the retry is admitted afresh.
    const fingerprint = key ? submitFingerprint(req) : '';
    const known = key ? deps.tasks.get(taskId) : undefined;
    if (known && known.state !== 'rejected') return answerRecorded(deps.tasks, known, fingerprint);

    // Intake is bounded before any work (decoding tensors, escrow, dispatch); a refused request
    // is not referenced past this throw, so its bytes are freed with the reply.
    let ticket;
    try {
      ticket = deps.admission.admit(submitBytes(req));
    } catch (err) {
      if (isSwarmError(err)) {
        deps.onRefused(err);
        if (key) deps.tasks.reject(taskId, key, err, false, account);
      }
      throw err;
    }

    const log = ctx.log.child({ taskId, skill: capForLog(req.skill) });
    const started = watch.now();
    let reserved = false;
    let reserveTried = false;
    let begun = false;
    // Each dispatch that ends is told to the observer: counted, so a failed task's record says how
    // many attempts it made.
    let attemptsMade = 0;
    const ports = deps.portsIn?.(ctx.trace) ?? deps.components.ports;
    try {
      if (key) {
        // Unknown here (another router instance, a restart, retention passed): the ledger says
        // whether this key's task already ran. Never run it twice.
        const view = await ports.escrow(taskId);
        // Another submit with this key may have begun while the ledger answered.
        const now = deps.tasks.get(taskId);
        if (now && now.state !== 'rejected') return await answerRecorded(deps.tasks, now, fingerprint);
        if (view.state !== 'none') throw retryAfterLedger(view, clock.now());
      }
      const observer = deps.components.observer;
      const components: RouterComponents = {
        ...deps.components,
        observer: { onAttempt: (r) => (attemptsMade++, observer?.onAttempt(r)) },
        ports: {
          ...ports,
          reserve: async (...args) => {
            reserveTried = true;
            await ports.reserve(...args);
            reserved = true;
          },
          // Reserves and settles at once: a charge that failed may still have committed, like a reserve.
          charge: (...args) => {
            reserveTried = true;
            return ports.charge(...args);
          },
        },
      };
      const dispatchSignal = AbortSignal.any([deps.scheduler.deadlineSignal(deadlineMs), deps.shutdown]);
      const run = runTask(
        components,
        deps.limits,
        { taskId, skill: req.skill, inputs: req.inputs, budget: req.budget, deadlineMs, account, redundancy: req.redundancy, shards: req.shards, paysPastDeadline: key !== '' },
        dispatchSignal,
        // With a key, settle and charge retries outlive the deadline (until shortly before the
        // escrow's expiry): a verified result is not thrown away because credit-svc was restarting,
        // and the client learns the outcome by key. Without one the client cannot ask later, so
        // settling stops at its deadline and the escrow is refunded, and a charge is refused by
        // the ledger past the deadline: never charged unseen.
        key ? deps.shutdown : dispatchSignal,
      );
      deps.tasks.begin(
        taskId,
        key,
        run.catch(() => undefined),
        fingerprint,
        account,
      );
      begun = true;
      const out = await run;
      const res = toResponse(out, account, key);
      deps.tasks.finish(taskId, {
        state: out.settlement,
        cost: out.cost,
        refunded: out.refunded,
        providerId: out.providerId,
        paidTo: out.contributions.filter((c) => c.paid > 0n).map((c) => ({ providerId: c.providerId, paid: c.paid })),
        placementNote: out.placementNote,
        attempts: out.attempts.length,
        note: out.settlementNote,
        uncertain: out.settlementUncertain,
        result: res,
        resultBytes: out.outputs.reduce((n, t) => n + t.data.byteLength, 0),
      });
      log.info({ cost: String(out.cost), settlement: out.settlement, executorId: out.executorId, totalMs: out.timing.totalMs, attempts: out.attempts.length }, 'task done');
      deps.onFinished(taskId, req.skill, { ok: true, cost: out.cost, totalMs: out.timing.totalMs }, ctx.trace);
      return res;
    } catch (caught) {
      const error = withRetryHint(caught, deps.admission);
      log.info({ err: error }, 'task failed');
      if (begun) {
        const err = isSwarmError(error) ? error : new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'internal error');
        // Nothing reserved (bad input, no credit, out of time before the escrow): nothing moved.
        if (reserved) deps.tasks.finish(taskId, { state: 'refunded', cost: 0n, refunded: req.budget, providerId: '', attempts: attemptsMade, note: '', error: err });
        // A reserve that failed may still have committed (a lost reply; run-task then refunds it):
        // the status request asks the ledger instead of saying "nothing moved".
        else deps.tasks.reject(taskId, key, err, reserveTried, account);
        deps.onFinished(taskId, req.skill, { ok: false, error, totalMs: watch.now() - started }, ctx.trace);
      }
      throw error;
    } finally {
      ticket.release(watch.now() - started);
    }
  };
  return async (req, ctx) => {
    const requesterDeadline = clientDeadline(ctx.headers);
    const arrivedInTime = requesterDeadline !== undefined && clock.now() < requesterDeadline;
    try {
      return await handle(req, ctx, requesterDeadline);
    } finally {
      // Counted apart from late arrivals: a reply the router itself sent too late is its own fault.
      if (arrivedInTime && clock.now() > requesterDeadline) deps.onAnsweredLate();
    }
  };
}

function toResponse(out: TaskOutcome, account: string, idempotencyKey: string): SubmitTaskResponse {
  return {
    taskId: out.taskId,
    outputs: out.outputs,
    cost: out.cost,
    refunded: out.refunded,
    timing: out.timing,
    providerId: out.providerId,
    executorId: out.executorId,
    backend: out.backend,
    verification: out.verification,
    attempts: out.attempts.length,
    account,
    settlement: out.settlement === 'paid' ? TaskState.TASK_STATE_PAID : TaskState.TASK_STATE_REFUNDED,
    settlementNote: out.settlementNote,
    contributions: out.contributions.map((c) => ({ ...c })),
    shards: out.shards.map((s) => ({ ...s })),
    replayed: false,
    placementNote: out.placementNote,
    idempotencyKey,
  };
}

/** A keyed retry: wait for a running task, then give the same answer its first submit got. */
async function answerRecorded(tasks: TaskTable<SubmitTaskResponse>, record: TaskRecord<SubmitTaskResponse>, fingerprint: string): Promise<SubmitTaskResponse> {
  if (record.fingerprint && record.fingerprint !== fingerprint) throw keyReusedError(record.taskId);
  if (record.running) await record.running;
  const r = tasks.get(record.taskId) ?? record;
  // The recorded answer, marked: this submit ran and paid nothing.
  if (r.result) return { ...r.result, replayed: true };
  // The ledger's word first: a record it found paid may still carry the error its run ended with.
  if (r.state === 'paid') {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_TASK_RESULT_GONE,
      `task ${r.taskId} already finished and paid ${r.cost} credit(s) to ${r.providerId || 'its provider'}; its result is no longer held, and it is not run again`,
    );
  }
  if (r.state === 'refunded') {
    // The key names a task that ended unpaid: said so (not retryable with this key), with why. Its
    // own error may have been retryable, which with the same key would loop (docs/errors.md).
    const why = r.error ? `${errorCodeName(r.error.code)}: ${r.error.message.slice(0, 300)}` : r.note || 'nothing was charged';
    throw new SwarmError(
      ErrorCode.ERROR_CODE_TASK_REFUNDED,
      `task ${r.taskId} already ended and was refunded, nothing charged (${why}); submit with a new key to run it again`,
      false,
    );
  }
  // Refused before anything was reserved (a joiner of that attempt): its refusal as it was; the
  // key may be sent again and is admitted afresh.
  if (r.error) throw r.error;
  throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `the outcome of task ${r.taskId} is not known here (yet); ask its status (swarm task) or send it again`, true);
}

/** A keyed submit the router does not remember, but the ledger does: say what became of it. */
function retryAfterLedger(view: EscrowView, now: number): SwarmError {
  if (view.state === 'settled') {
    return new SwarmError(
      ErrorCode.ERROR_CODE_TASK_RESULT_GONE,
      `a task with this key already finished and paid ${view.paid} credit(s); its result is no longer held, and it is not run again`,
    );
  }
  if (view.state === 'refunded') {
    return new SwarmError(ErrorCode.ERROR_CODE_TASK_REFUNDED, 'a task with this key already ended and was refunded; nothing was charged. Submit with a new key to run it again');
  }
  // Escrowed by a router that stopped (or another instance still running it): it is never paid
  // past its expiry, when the ledger refunds it; ask again then.
  const wait = Math.max(0, view.expiresAtMs - now);
  return new SwarmError(
    ErrorCode.ERROR_CODE_UNAVAILABLE,
    `a task with this key is escrowed by a router that is not this one (it stopped, or still runs it); the ledger refunds it within ${Math.ceil(wait / 1000)} s unless it is paid first`,
    undefined,
    { retryAfterMs: Math.min(wait, 0xffff_ffff) },
  );
}

/**
 * What happened to a task: the router's record while it holds one (source "router"), else the
 * ledger's escrow (source "ledger"), which credit-svc keeps for good. A record whose settlement
 * the router could not learn asks the ledger first. A task whose payer the viewer may not see
 * (another agent's) answers exactly as an unknown task, so its existence does not leak.
 */
export function statusHandler(
  deps: Pick<SubmitDeps, 'components' | 'portsIn' | 'tasks' | 'accounts'> & { ledgerLookups: RateLimiter },
): Handler<TaskStatusRequest, TaskStatusResponse> {
  return async (req, ctx) => {
    const { keyAccount, owner } = deps.accounts.viewer(req);
    const visible = (payer: string) => owner === '' || payer === owner;
    if ((req.taskId === '') === (req.idempotencyKey === '')) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'give exactly one of taskId or idempotencyKey');
    }
    if (req.idempotencyKey && !isIdempotencyKey(req.idempotencyKey)) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `idempotencyKey must be ${IDEMPOTENCY_KEY_TEXT}, got ${req.idempotencyKey.length} character(s)`);
    }
    const taskId = req.taskId || keyedTaskId(keyAccount, req.idempotencyKey);
    const empty: TaskStatusResponse = {
      taskId,
      state: TaskState.TASK_STATE_UNKNOWN,
      cost: 0n,
      refunded: 0n,
      error: undefined,
      providerId: '',
      source: '',
      resultAvailable: false,
      attempts: 0,
      note: '',
      paidTo: [],
      placementNote: '',
      account: '',
    };
    // Not an id this router could have assigned: unknown, without bothering the ledger.
    if (!TASK_ID_PATTERN.test(taskId)) return empty;
    const record = deps.tasks.get(taskId);
    if (record && !visible(record.account)) return empty;
    if (record && !record.uncertain) return fromRecord(record);
    // A status request costs its sender nothing; a ledger lookup costs credit-svc a read. Bounded,
    // so a client cannot flood the ledger with ids (the router's own records answer for free).
    if (!deps.ledgerLookups.take()) {
      if (record) return fromRecord(record);
      const wait = deps.ledgerLookups.waitMs();
      throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, `too many status requests reach the ledger; retry after ${wait} ms`, undefined, { retryAfterMs: Math.max(wait, 1) });
    }
    let view: EscrowView;
    try {
      view = await (deps.portsIn?.(ctx.trace) ?? deps.components.ports).escrow(taskId);
    } catch (err) {
      if (record) return fromRecord(record);
      throw err;
    }
    // The ledger fallback sees the escrow's payer: another account's task stays unknown.
    if (view.state !== 'none' && !visible(view.payer)) return empty;
    if (record && view.state === 'none') return fromRecord(record);
    if (record && view.state === 'open') {
      // Not closed yet (a refund that did not get through): the ledger refunds it at its expiry.
      return {
        ...fromRecord(record),
        state: TaskState.TASK_STATE_RUNNING,
        source: 'ledger',
        note: 'the escrow is still open; the ledger refunds it at its expiry unless it is paid first',
      };
    }
    if (record) {
      // The ledger's final word replaces the router's guess (a lost settle reply may have committed).
      record.uncertain = false;
      record.state = view.state === 'settled' ? 'paid' : 'refunded';
      record.cost = view.paid;
      record.refunded = view.refunded;
      return fromRecord(record);
    }
    const state = { none: TaskState.TASK_STATE_UNKNOWN, open: TaskState.TASK_STATE_RUNNING, settled: TaskState.TASK_STATE_PAID, refunded: TaskState.TASK_STATE_REFUNDED }[
      view.state
    ];
    const paid = view.state === 'settled' ? (view.payouts ?? []) : [];
    return {
      ...empty,
      state,
      cost: view.paid,
      refunded: view.refunded,
      // Paid to several nodes (row blocks, replicas): the most paid is the task's face, each one listed.
      providerId: view.payee || mostPaid(paid),
      paidTo: paid.length > 1 ? paid.map((p) => Contribution.fromPartial({ providerId: p.payee, paid: p.amount, counted: true })) : [],
      source: view.state === 'none' ? '' : 'ledger',
      account: view.payer,
    };
  };
}

/** The payee paid the most (the first of equals), '' for none. */
function mostPaid(payouts: NonNullable<EscrowView['payouts']>): string {
  let best: { readonly payee: string; readonly amount: bigint } | undefined;
  for (const p of payouts) if (!best || p.amount > best.amount) best = p;
  return best?.payee ?? '';
}

function fromRecord(r: TaskRecord<SubmitTaskResponse>): TaskStatusResponse {
  const state = { running: TaskState.TASK_STATE_RUNNING, paid: TaskState.TASK_STATE_PAID, refunded: TaskState.TASK_STATE_REFUNDED, rejected: TaskState.TASK_STATE_REJECTED }[
    r.state
  ];
  return {
    taskId: r.taskId,
    state,
    cost: r.cost,
    refunded: r.refunded,
    error: r.error ? toWire(r.error) : undefined,
    providerId: r.providerId,
    source: 'router',
    resultAvailable: r.result !== undefined,
    attempts: r.attempts,
    note: r.note,
    account: r.account,
    // Only counted results are paid.
    paidTo: r.paidTo.map((p) => Contribution.fromPartial({ ...p, counted: true })),
    placementNote: r.placementNote,
  };
}

/** Executors answer OVERLOADED without a hint; the router knows how fast its tasks finish. */
function withRetryHint(err: unknown, admission: Admission): unknown {
  if (!isSwarmError(err, ErrorCode.ERROR_CODE_OVERLOADED) || err.retryAfterMs > 0) return err;
  return new SwarmError(err.code, err.message, true, { cause: err.cause, retryAfterMs: admission.retryAfterMs() });
}

/**
 * The client's absolute deadline (libs/bus sets DEADLINE_HEADER on every request). It can only
 * shorten the task's deadline, so time a request spent queued before the router saw it counts too.
 */
function clientDeadline(headers: MsgHdrs | undefined): number | undefined {
  const raw = headers?.get(DEADLINE_HEADER);
  if (!raw || !/^\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}
