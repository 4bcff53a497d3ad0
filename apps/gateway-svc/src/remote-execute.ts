/**
 * The provider's side of remote execution: PeerService.Execute, a task another node sends to run on
 * this node's executors. Accepted only within this node's policy (the task's shape and time limit,
 * a submitter with a valid record on the DHT (submitter-records.ts), the skill installed here, room
 * among the tasks peers already run here, or a place in the queue by contribution standing when
 * there is none: peer-task-slots.ts, docs/priority.md), then run as router-svc runs local tasks (an
 * acknowledged request to the executor queue group), and answered signed by the node key over the request's
 * hash and the exact response bytes (libs/records signed-result), so the submitter can prove who
 * computed what.
 */
import type { BusClient, BusService } from '@swarm/bus';
import type { ExecuteRequest, ExecuteResponse } from '@swarm/contracts';
import { BUS_MAX_PAYLOAD_BYTES, ErrorCode, ExecutorExecute, GatewayExecute, SwarmError } from '@swarm/contracts';
import type { Scheduler, Time } from '@swarm/determinism';
import type { PeerHandler } from '@swarm/gateway';
import { shortId } from '@swarm/gateway';
import type { RecordSigner, ServeTickets } from '@swarm/records';
import { encodeTask, serveTicketCap, signResult } from '@swarm/records';
import { priceOf } from '@swarm/skills';
import type { Logger } from '@swarm/telemetry';
import type { PeerTaskLimits } from './config';
import { DEFAULT_MAX_PEER_TASKS, DEFAULT_PEER_QUEUE, DEFAULT_PEER_QUEUE_WAIT_MS } from './config';
import { gatewayExecuteHandler } from './execute-on-peer';
import type { InstalledSkills } from './installed-skills';
import { createInstalledSkills } from './installed-skills';
import type { PeerPool } from './peer-pool';
import type { PeerStanding } from './peer-standing';
import { createPeerStanding } from './peer-standing';
import { createPeerTaskSlots } from './peer-task-slots';
import { checkPeerTask } from './peer-task';
import type { SubmitterRecords } from './submitter-records';
import { createSubmitterRecords } from './submitter-records';
import type { UnpaidServes } from './unpaid-serves';

/**
 * How long an executor has to acknowledge a task: it does so from its event loop on arrival, so a
 * live one answers in milliseconds (router-svc's default, SWARM_ROUTER_ACK_TIMEOUT_MS, is the same).
 */
export const EXECUTOR_ACK_TIMEOUT_MS = 2_000;
/** Room for the executor's answer to travel back after its own time limit (as router-svc allows). */
export const EXECUTOR_REPLY_SLACK_MS = 250;
/** A peer told OVERLOADED may try this node again after about this long. */
const OVERLOADED_RETRY_AFTER_MS = 500;
/** A peer that owes too much: about the time its receipts take to arrive. */
const UNPAID_RETRY_AFTER_MS = 5_000;
/**
 * When this node's executors do not answer (one restarting: its supervisor starts it again within
 * about a second), a peer is told to retry after this long, as OVERLOADED: this node is reachable
 * and will run the task soon. Told UNAVAILABLE, a peer's router left this node out for 30 s as if
 * it could not reach it.
 */
export const EXECUTORS_DOWN_RETRY_AFTER_MS = 2_000;

/** An error meaning no executor of this node answered (none running, or the one that took the task died): OVERLOADED for the peer. */
function executorsDown(err: unknown): SwarmError | undefined {
  // AckTimeoutError too: the executor that took the task did not acknowledge it (it died).
  if (!(err instanceof SwarmError) || err.code !== ErrorCode.ERROR_CODE_UNAVAILABLE) return undefined;
  return new SwarmError(
    ErrorCode.ERROR_CODE_OVERLOADED,
    `this node's executors are not answering now (one may be restarting); retry in ${EXECUTORS_DOWN_RETRY_AFTER_MS} ms`,
    true,
    { retryAfterMs: EXECUTORS_DOWN_RETRY_AFTER_MS, cause: err },
  );
}

export interface PeerExecuteDeps {
  /** This node's bus, for the executors. */
  readonly bus: BusClient;
  /** The node key (libs/identity's NodeIdentity): results are signed with it. */
  readonly signer: RecordSigner;
  /** Mints the serve ticket given beside each result (libs/records serve-ticket.ts). */
  readonly tickets: ServeTickets;
  readonly skills: InstalledSkills;
  /** Whether the submitting peer has a valid record on the DHT. */
  readonly submitters: SubmitterRecords;
  /** What the submitting peer earned serving this node lately: its place in the queue when this node is full. */
  readonly standing: PeerStanding;
  /** What this node ran for each peer and was not paid for yet: a peer owing too much gets no more. */
  readonly unpaid: UnpaidServes;
  /** Paces waits in the queue. */
  readonly scheduler: Scheduler;
  readonly log: Logger;
  /** Default DEFAULT_MAX_PEER_TASKS running, DEFAULT_PEER_QUEUE waiting up to DEFAULT_PEER_QUEUE_WAIT_MS. */
  readonly peerTasks?: PeerTaskLimits;
  /** Longest task time limit a peer may ask for. */
  readonly maxTimeoutMs?: number;
}

const DEFAULT_PEER_TASK_LIMITS: PeerTaskLimits = Object.freeze({ maxRunning: DEFAULT_MAX_PEER_TASKS, maxWaiting: DEFAULT_PEER_QUEUE, maxWaitMs: DEFAULT_PEER_QUEUE_WAIT_MS });

/** A skill's price depends on its inputs' shapes alone (SkillSpec.work). */
const NO_VALUES = new Float32Array(0);

/** The task's price from its shapes; undefined for shapes that fit no skill (the executors refuse such a task). */
function shapePrice(task: ExecuteRequest): bigint | undefined {
  try {
    return priceOf(
      task.skill,
      task.inputs.map((t) => ({ name: t.name, shape: t.shape, data: NO_VALUES })),
    );
  } catch {
    return undefined;
  }
}

export function createPeerExecuteHandler(deps: PeerExecuteDeps): PeerHandler<'execute'> {
  const limits = deps.peerTasks ?? DEFAULT_PEER_TASK_LIMITS;
  const slots = createPeerTaskSlots({
    slots: limits.maxRunning,
    maxWaiting: limits.maxWaiting,
    maxWaitMs: limits.maxWaitMs,
    retryAfterMs: OVERLOADED_RETRY_AFTER_MS,
    scheduler: deps.scheduler,
  });
  return async ({ peerId, network, request, signal, trace }) => {
    const task = checkPeerTask(request.task, deps.maxTimeoutMs);
    // Before the skill check: a stranger learns nothing about what this node runs.
    await deps.submitters.require(peerId, network, trace);
    const runs = await deps.skills.has(task.skill, trace).catch((err: unknown) => {
      throw executorsDown(err) ?? err;
    });
    if (!runs) {
      // NO_PROVIDER, not UNKNOWN_SKILL: the skill may well exist, and another node may run it.
      throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, `this node does not run ${task.skill}`);
    }
    // Counted against the peer from now, so tasks in flight count too (unpaid-serves.ts).
    const price = shapePrice(task);
    if (price !== undefined) {
      const owed = deps.unpaid.admit(peerId, task.taskId, price);
      if (owed !== undefined) {
        throw new SwarmError(
          ErrorCode.ERROR_CODE_OVERLOADED,
          `this node runs no more tasks for your node while it owes ${owed} credits for tasks run for it; receipts for them free it`,
          true,
          { retryAfterMs: UNPAID_RETRY_AFTER_MS },
        );
      }
    }
    let response: ExecuteResponse;
    try {
      // Standing is asked only when this node is full: an idle node costs no ledger round trip.
      const release = slots.tryAcquire() ?? (await slots.acquire(await deps.standing.of(peerId, trace), signal));
      try {
        // The task goes to the executors exactly as the peer sent it: the signature covers that request.
        response = await deps.bus.requestAcked(ExecutorExecute, task, {
          timeoutMs: task.timeoutMs + EXECUTOR_REPLY_SLACK_MS,
          ackTimeoutMs: EXECUTOR_ACK_TIMEOUT_MS,
          signal,
          trace,
        });
      } finally {
        release();
      }
    } catch (err) {
      if (price !== undefined) deps.unpaid.release(peerId, task.taskId, price);
      throw executorsDown(err) ?? err;
    }
    deps.log.debug({ peer: peerId, taskId: task.taskId.slice(0, 64), skill: task.skill }, `ran a task for peer ${shortId(peerId)}`);
    // The ticket caps what a receipt for this task may pay, from the price of the work done.
    return signResult(encodeTask(task), response, deps.signer, deps.tickets.mint(peerId, task.taskId, serveTicketCap(price ?? 0n)));
  };
}

export interface RemoteExecutionDeps {
  /** The node key, the one of the gateway's certificate: a result is signed by the node its peers authenticated. */
  readonly signer: RecordSigner;
  readonly tickets: ServeTickets;
  /** This node's id (the certificate's). */
  readonly nodeId: string;
  /** This node's bus, for the executors, the registry and the ledger. */
  readonly bus: BusClient;
  /** The gateway's clients to peers (shared with receipts and chain pages; the service closes it). */
  readonly pool: PeerPool;
  readonly log: Logger;
  readonly time: Time;
  readonly peerTasks: PeerTaskLimits;
  /** Shared with the receipts coming in (ledger-relay.ts), which clear what a peer owes. */
  readonly unpaid: UnpaidServes;
}

/** Both sides of remote execution, as gateway-svc wires them. */
export interface RemoteExecution {
  /** PeerService.Execute: peers' tasks, for the gateway server's handlers. */
  readonly execute: PeerHandler<'execute'>;
  /** Serves GatewayExecute (router-svc's tasks for peers) on the gateway's bus service. */
  serve(svc: BusService): void;
}

export function startRemoteExecution(deps: RemoteExecutionDeps): RemoteExecution {
  const { bus, log, pool, signer, time } = deps;
  return {
    execute: createPeerExecuteHandler({
      bus,
      signer,
      tickets: deps.tickets,
      skills: createInstalledSkills(bus, time.stopwatch),
      submitters: createSubmitterRecords(bus, time.clock, time.stopwatch),
      standing: createPeerStanding(bus, time.stopwatch, log),
      unpaid: deps.unpaid,
      scheduler: time.scheduler,
      log,
      peerTasks: deps.peerTasks,
    }),
    serve(svc) {
      const handler = gatewayExecuteHandler({
        pool,
        nodeId: deps.nodeId,
        onRefusedResult: (peer, reason) => log.warn({ peer, reason }, `refused a result from peer ${shortId(peer)} (${reason})`),
      });
      // A task carries up to a whole bus message of inputs.
      svc.serve(GatewayExecute, handler, { maxRequestBytes: BUS_MAX_PAYLOAD_BYTES });
    },
  };
}
