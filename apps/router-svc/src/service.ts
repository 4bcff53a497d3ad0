import { join } from 'node:path';
import { startBusService, toWire } from '@swarm/bus';
import type { SubmitTaskResponse } from '@swarm/contracts';
import {
  ErrorCode,
  isSwarmError,
  refuseOverfullTaskRequest,
  RouterHealth,
  RouterReportFork,
  RouterReportVoidBreach,
  RouterSubmit,
  RouterSubmitAgent,
  RouterTask,
  RouterTaskAgent,
  RouterTrust,
  SwarmError,
  TaskFinishedEvents,
} from '@swarm/contracts';
import type { Random, Scheduler, Stopwatch, WallClock } from '@swarm/determinism';
import { randomUuid } from '@swarm/determinism';
import type { RouterComponents } from '@swarm/pipeline';
import { createAdmission, createChargeGate, createTaskTable, DEFAULT_ROUTER_LIMITS } from '@swarm/pipeline';
import { createRateLimiter } from '@swarm/rate-limit';
import type { AttemptObserver, CandidateSelector } from '@swarm/scoring';
import { createDefaultSelector, createTrustBook, trustObserver, trustReader } from '@swarm/scoring';
import type { Logger } from '@swarm/telemetry';
import { NO_TRACE } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { createBusPorts } from './bus-ports';
import type { RouterConfig } from './config';
import { loadTrust, startTrustSaver, TRUST_FILE } from './trust-file';
import type { SubmitDeps } from './handlers';
import { statusHandler, submitHandler } from './handlers';
import {
  MAX_REPORT_FORK_BYTES,
  MAX_REPORT_VOID_BREACH_BYTES,
  MAX_TRUST_REQUEST_BYTES,
  reportForkHandler,
  reportVoidBreachHandler,
  restoreConvictions,
  trustHandler,
  withoutUntrusted,
} from './router-trust';
import { agentTaskAccounts, nodeTaskAccounts } from './task-accounts';
import { createVerifyPool } from './verify-pool';

/**
 * Status requests that reach the ledger: a burst of 1,000, then 500/s. A ledger read costs
 * credit-svc well under a millisecond, so this bounds a flood without troubling honest use.
 */
export const STATUS_LEDGER_LOOKUPS = Object.freeze({ perSecond: 500, burst: 1_000 });
/** A status request holds a task id, an idempotency key and an account (under 200 bytes). */
export const MAX_STATUS_REQUEST_BYTES = 1024;

export const ROUTER_VERSION = '0.1.0';
/** At most one "refusing tasks" warning per interval: a flood must not become a flood of logs. */
export const OVERLOAD_LOG_INTERVAL_MS = 5_000;

export interface RouterServiceDeps {
  config: RouterConfig;
  log: Logger;
  nc: NatsConnection;
  /** For the router's own requests and events (see runServiceMain's outboundConnection); default `nc`. */
  outboundNc?: NatsConnection;
  nodeId: string;
  /** Wall-clock ms: deadlines and expiries, comparable with other processes. */
  clock: WallClock;
  /**
   * Monotonic ms for durations: task timings, the ages of cached provider lists and task records,
   * rate-limit refills, log throttling (the wall clock may jump).
   */
  stopwatch: Stopwatch;
  /** Task deadline signals and the waits between settle retries. */
  scheduler: Scheduler;
  /**
   * Task ids, tie-breaks between candidates and verification draws: a CSPRNG in production (an
   * executor must not predict them). Verification on worker threads (verifyThreads > 0, results
   * above INLINE_VERIFY_MAX_VALUES) draws from each thread's own CSPRNG instead, since a function
   * cannot be handed to another thread.
   */
  random: Random;
  /**
   * Who gets each attempt; default: createDefaultSelector(random) reading the router's trust in
   * other nodes. Whatever the selector, providers convicted by a proof (a fork, a broken void) are never candidates.
   */
  selector?: CandidateSelector;
  /** Told how every dispatch attempt ended, after the router's own trust book; default: nobody else. */
  observer?: AttemptObserver;
}

export interface RouterService {
  stop(): Promise<void>;
}

export async function startRouterService(deps: RouterServiceDeps): Promise<RouterService> {
  const { config, log, nc, nodeId, clock, stopwatch, scheduler, random } = deps;
  // Trust in other nodes (router-trust.ts): learned from this router's attempts and kept in
  // <data-dir>/router/trust.json (trust-file.ts); convictions by proof are kept on disk too (kept-proofs.ts).
  // Both are restored before anything is dispatched.
  const trust = createTrustBook();
  const restored = await restoreConvictions(trust, config.dataDir, log, nodeId);
  if (restored.convicted > 0 || restored.skipped > 0)
    log.info({ ...restored, dir: join(config.dataDir, 'router') }, 'untrusted nodes restored from the kept fork and void breach proofs');
  const trustPath = join(config.dataDir, TRUST_FILE);
  const kept = await loadTrust(trust, trustPath, { stopwatch, clock }, log);
  if (kept.restored > 0 || kept.skipped > 0) log.info({ ...kept, path: trustPath }, 'trust in other nodes restored');
  const trustSaver = startTrustSaver({ book: trust, path: trustPath, stopwatch, clock, scheduler, log });
  const recordTrust = trustObserver(trust, stopwatch);
  const learn: AttemptObserver = {
    onAttempt(report) {
      recordTrust.onAttempt(report);
      trustSaver.changed();
    },
  };
  const other = deps.observer;
  const observer: AttemptObserver = other
    ? {
        onAttempt(report) {
          learn.onAttempt(report);
          other.onAttempt(report);
        },
      }
    : learn;
  const verifier = config.verifyThreads > 0 ? createVerifyPool(config.verifyThreads, random) : undefined;
  let svc;
  try {
    svc = await startBusService({
      nc,
      ...(deps.outboundNc ? { clientNc: deps.outboundNc } : {}),
      log,
      name: 'router-svc',
      version: ROUTER_VERSION,
      description: 'Task intake, escrow, dispatch, verification, settlement',
      nodeId,
    });
  } catch (err) {
    await verifier?.stop();
    await trustSaver.stop();
    throw err;
  }
  const limits = {
    ...DEFAULT_ROUTER_LIMITS,
    maxAttempts: config.maxAttempts,
    maxElements: config.maxElements,
    attemptMinMs: config.attemptMinMs,
    attemptWorkPerMs: config.attemptWorkPerMs,
    foldMaxWork: config.foldMaxWork,
  };
  const tasks = createTaskTable<SubmitTaskResponse>({ retentionMs: config.taskRetentionMs, maxEntries: config.taskTableMax, maxResultBytes: config.taskResultBytes }, stopwatch);
  // Time, timers and chance all come from deps, so virtual time can drive a task end to end. Real
  // timers remain only inside libs/bus (request timeouts), where the bus itself is real.
  const busPorts = createBusPorts(svc.client, stopwatch, nodeId, config.ackTimeoutMs);
  const components: RouterComponents = {
    ports: withoutUntrusted(busPorts, trust),
    clock,
    stopwatch,
    random,
    sleep: (ms, signal) => scheduler.sleep(ms, signal),
    selector: deps.selector ?? createDefaultSelector(random, trustReader(trust, stopwatch)),
    observer,
    chargeGate: createChargeGate(stopwatch),
    ...(verifier ? { verifier } : {}),
  };
  const admission = createAdmission({ maxInFlight: config.maxInFlight, maxInFlightBytes: config.maxInFlightBytes }, random);
  // Finished tasks by outcome: a new user's `swarm health` after `npm start` counted the demo's
  // NO_PROVIDER retries (asked again while the DHT spreads records; nothing reserved) as tasks.
  let finished = 0;
  let succeeded = 0;
  let noProvider = 0;
  let arrivedLate = 0;
  let answeredLate = 0;
  let lastOverloadLog = -Infinity;
  let refusedAtLastLog = 0;
  const stopping = new AbortController();
  // No subscription pending limit to tune: nats.js hands each message of a callback subscription
  // (the services framework's) to the handler as soon as it is parsed, so unread requests wait only
  // in nats-server (which slows the sender when the router falls behind) and the socket buffers.
  // The handler refuses what is beyond the admission limits at once, so nothing piles up here.
  // Agents' tasks (api-svc) share everything with the node's own: admission, the task table (ids
  // never collide: keyed ids derive from the paying account), the event stream and the counters.
  const submitDeps: Omit<SubmitDeps, 'accounts'> = {
    components,
    portsIn: (trace) => (trace === NO_TRACE ? components.ports : withoutUntrusted(busPorts.traced(trace), trust)),
    limits,
    tasks,
    config,
    admission,
    scheduler,
    newTaskId: () => `task-${randomUuid(random)}`,
    shutdown: stopping.signal,
    onRefused(err) {
      const now = stopwatch.now();
      if (now - lastOverloadLog < OVERLOAD_LOG_INTERVAL_MS) return;
      const stats = admission.stats();
      log.warn({ ...stats, refusedSinceLastWarning: stats.refused - refusedAtLastLog, retryAfterMs: err.retryAfterMs }, 'refusing tasks: at capacity');
      lastOverloadLog = now;
      refusedAtLastLog = stats.refused;
    },
    onArrivedLate() {
      arrivedLate += 1;
    },
    onAnsweredLate() {
      answeredLate += 1;
    },
    onFinished(taskId, skill, outcome, trace) {
      finished += 1;
      if (outcome.ok) succeeded += 1;
      else if (isSwarmError(outcome.error, ErrorCode.ERROR_CODE_NO_PROVIDER)) noProvider += 1;
      // Best effort: the task's outcome is already decided; a failed event must not change it. It
      // leaves with the task's reply (one socket write), not on the connection of the router's requests.
      try {
        svc.publish(
          TaskFinishedEvents,
          {
            taskId,
            skill,
            ok: outcome.ok,
            cost: outcome.ok ? outcome.cost : 0n,
            error: outcome.ok ? undefined : toWire(outcome.error),
            totalMs: outcome.totalMs,
          },
          trace,
        );
      } catch (err) {
        log.warn({ err, taskId }, 'could not publish the task-finished event');
      }
    },
  };
  const nodeAccounts = nodeTaskAccounts(nodeId);
  const agentAccounts = agentTaskAccounts();
  // Counted on the wire before decoding: 8 MB of empty inputs took the router 13 s and 1.2 GB to decode.
  const submitOpts = { maxRequestBytes: config.maxRequestBytes, precheck: refuseOverfullTaskRequest };
  svc.serve(RouterSubmit, submitHandler({ ...submitDeps, accounts: nodeAccounts }), submitOpts);
  svc.serve(RouterSubmitAgent, submitHandler({ ...submitDeps, accounts: agentAccounts }), submitOpts);
  // One budget of ledger lookups for both: it protects credit-svc, whoever asks.
  const ledgerLookups = createRateLimiter(STATUS_LEDGER_LOOKUPS, stopwatch);
  const statusOpts = { maxRequestBytes: MAX_STATUS_REQUEST_BYTES };
  svc.serve(RouterTask, statusHandler({ components, portsIn: submitDeps.portsIn, tasks, accounts: nodeAccounts, ledgerLookups }), statusOpts);
  svc.serve(RouterTaskAgent, statusHandler({ components, portsIn: submitDeps.portsIn, tasks, accounts: agentAccounts, ledgerLookups }), statusOpts);
  // A proof against a node (a fork, a broken void: operators', and credit-svc's watches), and the trust list (operators').
  svc.serve(RouterReportFork, reportForkHandler({ book: trust, dataDir: config.dataDir, nodeId }), { maxRequestBytes: MAX_REPORT_FORK_BYTES });
  svc.serve(RouterReportVoidBreach, reportVoidBreachHandler({ book: trust, dataDir: config.dataDir, nodeId }), { maxRequestBytes: MAX_REPORT_VOID_BREACH_BYTES });
  svc.serve(RouterTrust, trustHandler(trust, stopwatch), { maxRequestBytes: MAX_TRUST_REQUEST_BYTES });
  svc.serveHealth(RouterHealth, () => {
    const s = admission.stats();
    const nodes = trust.size();
    return {
      tasksFinished: String(finished),
      tasksSucceeded: String(succeeded),
      tasksNoProvider: String(noProvider),
      tasksFailed: String(finished - succeeded - noProvider),
      inFlight: String(s.inFlight),
      inFlightBytes: String(s.inFlightBytes),
      maxInFlight: String(config.maxInFlight),
      maxInFlightBytes: String(config.maxInFlightBytes),
      refusedOverloaded: String(s.refused),
      arrivedAfterDeadline: String(arrivedLate),
      answeredAfterDeadline: String(answeredLate),
      tasksRemembered: String(tasks.size()),
      resultBytesRetained: String(tasks.resultBytes()),
      nodesTrusted: String(nodes.trusted),
      nodesUntrusted: String(nodes.untrusted),
    };
  });
  log.info({ maxInFlight: config.maxInFlight, maxInFlightBytes: config.maxInFlightBytes, verifyThreads: config.verifyThreads }, 'router-svc ready');
  return {
    async stop() {
      stopping.abort(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'router-svc is stopping; the task was ended early and refunded'));
      await svc.stop(config.graceMs);
      await verifier?.stop();
      await trustSaver.stop();
    },
  };
}
