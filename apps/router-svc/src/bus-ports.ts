/**
 * The router's ports onto its node's bus: credit-svc for escrow, registry-svc for providers,
 * the executor queue group for local work and the gateway for remote work (remote-dispatch.ts).
 * One shared connection; request timeouts follow the task.
 */
import type { BusClient } from '@swarm/bus';
import { AckTimeoutError, transportFailureOf } from '@swarm/bus';
import {
  CreditCharge,
  CreditEscrow,
  CreditRefund,
  CreditReserve,
  CreditSettle,
  ErrorCode,
  EscrowState,
  ExecutorExecute,
  isSwarmError,
  RegistryFindProviders,
  SettleRequest,
  SwarmError,
} from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import type { EscrowView, TaskPorts } from '@swarm/pipeline';
import { ChargeNotServed } from '@swarm/pipeline';
import type { Candidate } from '@swarm/scoring';
import type { TraceContext } from '@swarm/telemetry';
import { NO_TRACE } from '@swarm/telemetry';
import { candidateOf, executeRemote } from './remote-dispatch';
import { taskFactsOf } from './task-facts';

export const CREDIT_TIMEOUT_MS = 5_000;
/** How long a charge that reached nobody waits to learn whether credit-svc is there at all. */
export const LEDGER_PROBE_TIMEOUT_MS = 1_000;
/** Provider lists change slowly; caching them keeps a registry round trip off each task. */
export const PROVIDER_CACHE_MS = 1_000;
/** The registry's own probe of the executors waits up to 1 s; this leaves it room to answer. */
export const REGISTRY_TIMEOUT_MS = 2_000;
/**
 * A remote provider this router could not reach is left out of its candidates this long: the
 * registry may still list it (its round trip was measured recently, its record has not expired),
 * and every attempt spent on it is lost.
 */
export const UNREACHABLE_PROVIDER_MS = 30_000;
/** Slack for the executor's reply to travel back after its own time limit. */
const EXECUTE_REPLY_SLACK_MS = 250;

const ESCROW_STATES: Partial<Record<EscrowState, EscrowView['state']>> = {
  [EscrowState.ESCROW_STATE_NONE]: 'none',
  [EscrowState.ESCROW_STATE_OPEN]: 'open',
  [EscrowState.ESCROW_STATE_SETTLED]: 'settled',
  [EscrowState.ESCROW_STATE_REFUNDED]: 'refunded',
};

/** The ports, and the same ports with their requests in a task's trace (`traced`), sharing one state. */
export interface BusPorts extends TaskPorts {
  traced(trace: TraceContext): TaskPorts;
}

/** `stopwatch` ages the cached provider lists. */
export function createBusPorts(bus: BusClient, stopwatch: Stopwatch, nodeId: string, ackTimeoutMs: number): BusPorts {
  const cache = new Map<string, { at: number; providers: Candidate[] }>();
  /** Remote node id -> until when (stopwatch ms) it is left out. */
  const unreachable = new Map<string, number>();
  // This node's executors: tasks this router has on them now, against the capacity the registry
  // advertises; at capacity they are saturated and a remote provider goes first (default selector).
  let localInflight = 0;
  let localCapacity = 0;
  /** The providers not left out; when every one known is, NO_PROVIDER naming why (not "the registry knows none"). */
  const current = (providers: readonly Candidate[], skill: string): Candidate[] => {
    const now = stopwatch.now();
    for (const [id, until] of unreachable) if (until <= now) unreachable.delete(id);
    const left = providers.filter((c) => c.local || !unreachable.has(c.nodeId));
    if (left.length === 0 && providers.length > 0) {
      const soonest = Math.min(...providers.map((c) => unreachable.get(c.nodeId) ?? now));
      throw new SwarmError(
        ErrorCode.ERROR_CODE_NO_PROVIDER,
        `the registry knows ${providers.length} provider(s) of ${skill} on peers, but this node could not reach ${providers.length === 1 ? 'it' : 'them'} lately; ` +
          `it tries again in ${Math.max(0, Math.ceil(soonest - now))} ms`,
        true,
        { retryAfterMs: Math.max(1, Math.ceil(soonest - now)) },
      );
    }
    return left.map((c) => (c.local && localCapacity > 0 ? { ...c, load: Math.min(1, localInflight / localCapacity) } : c));
  };
  /** Whether credit-svc answers a request it has served for longer than the charge (an escrow read). */
  const ledgerAnswers = (escrowId: string, trace: TraceContext | undefined): Promise<boolean> =>
    bus.request(CreditEscrow, { escrowId, afterWrites: false }, { timeoutMs: LEDGER_PROBE_TIMEOUT_MS, trace }).then(
      () => true,
      (err: unknown) => isSwarmError(err) && transportFailureOf(err) === undefined,
    );
  const portsIn = (trace: TraceContext | undefined): TaskPorts => ({
    async reserve(escrowId, account, amount, expiresAtMs, payees) {
      // An escrow names 1 to 16 payees; with no candidate known the task is refunded without a
      // dispatch, so this node stands in.
      const named = payees.length > 0 ? [...payees] : [nodeId];
      // Whole ms on the wire; rounding up never expires an escrow before the time asked for.
      await bus.request(CreditReserve, { escrowId, account, amount, expiresAtMs: BigInt(Math.ceil(expiresAtMs)), payees: named }, { timeoutMs: CREDIT_TIMEOUT_MS, trace });
    },
    async settle(escrowId, payouts, facts) {
      // One payout for a task one provider ran; one per counted replica for a redundant task.
      // A payout to another node also needs what its receipt names (task-facts.ts).
      const task = taskFactsOf(escrowId, nodeId, payouts, facts);
      const req = SettleRequest.fromPartial({ escrowId, payouts: payouts.map((p) => ({ payee: p.payee, amount: p.amount })) });
      const r = await bus.request(CreditSettle, task ? { ...req, task } : req, { timeoutMs: CREDIT_TIMEOUT_MS, trace });
      return { paid: r.paid, refunded: r.refunded };
    },
    async charge(escrowId, account, amount, payouts, notAfterMs) {
      const req = { escrowId, account, amount, payouts: payouts.map((p) => ({ payee: p.payee, amount: p.amount })), notAfterMs: BigInt(Math.floor(notAfterMs)) };
      const send = async () => {
        const r = await bus.request(CreditCharge, req, { timeoutMs: CREDIT_TIMEOUT_MS, trace });
        return { paid: r.paid, refunded: r.refunded };
      };
      try {
        return await send();
      } catch (err) {
        // Delivered to nobody. A credit-svc that answers an escrow read, and still takes no charge
        // sent after that answer, serves none (it is older): the second send tells it from one
        // that was starting between the first and the read. One that answers nothing is down,
        // and the charge is retried as any other.
        if (transportFailureOf(err) !== 'no-responders' || !(await ledgerAnswers(escrowId, trace))) throw err;
        try {
          return await send();
        } catch (again) {
          if (transportFailureOf(again) !== 'no-responders') throw again;
          throw new ChargeNotServed(`credit-svc serves no ${CreditCharge.subject} (it is older than this router-svc); paid through an escrow instead`, { cause: again });
        }
      }
    },
    async refund(escrowId) {
      const r = await bus.request(CreditRefund, { escrowId }, { timeoutMs: CREDIT_TIMEOUT_MS, trace });
      return { refunded: r.refunded };
    },
    async escrow(escrowId, afterWrites = false) {
      const r = await bus.request(CreditEscrow, { escrowId, afterWrites }, { timeoutMs: CREDIT_TIMEOUT_MS, trace });
      return {
        state: ESCROW_STATES[r.state] ?? 'none',
        payer: r.payer,
        paid: r.paid,
        refunded: r.refunded,
        payee: r.payee,
        expiresAtMs: Number(r.expiresAtMs),
        payouts: r.payouts.map((p) => ({ payee: p.payee, amount: p.amount })),
      };
    },
    async findProviders(skill, signal) {
      const hit = cache.get(skill);
      if (hit && stopwatch.now() - hit.at < PROVIDER_CACHE_MS) return current(hit.providers, skill);
      let r;
      try {
        r = await bus.request(RegistryFindProviders, { skill }, { timeoutMs: REGISTRY_TIMEOUT_MS, signal, trace });
      } catch (err) {
        if (signal.aborted || !isSwarmError(err) || !err.retryable) throw err;
        // A busy or absent registry says nothing about the providers: the last list it gave is the
        // best guess (a gone executor shows up as NO_PROVIDER at dispatch, which clears it).
        if (hit) return current(hit.providers, skill);
        if (isSwarmError(err, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED)) {
          throw new SwarmError(
            ErrorCode.ERROR_CODE_UNAVAILABLE,
            `registry-svc did not answer within ${REGISTRY_TIMEOUT_MS} ms, so the providers of ${skill} are unknown`,
            undefined,
            { cause: err },
          );
        }
        throw err;
      }
      const providers = r.providers.map(candidateOf).filter((c): c is Candidate => c !== undefined);
      const local = r.providers.find((p) => p.local);
      if (local) localCapacity = local.capacity;
      if (providers.length > 0) cache.set(skill, { at: stopwatch.now(), providers });
      return current(providers, skill);
    },
    async execute(candidate, task, signal) {
      if (!candidate.local) {
        try {
          return await executeRemote(bus, candidate, task, signal, trace);
        } catch (err) {
          // Refused by the peer's gateway or cut off: not worth another attempt for a while.
          if (isSwarmError(err, ErrorCode.ERROR_CODE_UNAVAILABLE)) unreachable.set(candidate.nodeId, stopwatch.now() + UNREACHABLE_PROVIDER_MS);
          throw err;
        }
      }
      localInflight += 1;
      try {
        const r = await bus.requestAcked(ExecutorExecute, task, { timeoutMs: task.timeoutMs + EXECUTE_REPLY_SLACK_MS, ackTimeoutMs, signal, trace });
        return { outputs: r.outputs, providerId: r.providerId, executorId: r.executorId, backend: r.backend };
      } catch (err) {
        // Unacknowledged: the replica that got it is dead or stuck; the next attempt goes elsewhere.
        if (err instanceof AckTimeoutError) throw err;
        if (!isSwarmError(err, ErrorCode.ERROR_CODE_UNAVAILABLE)) throw err;
        // No executor answered: the cached provider list is stale; the next attempt asks again.
        cache.clear();
        throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, `no executor is serving ${task.skill}`, undefined, { cause: err });
      } finally {
        localInflight -= 1;
      }
    },
  });
  const untraced = portsIn(undefined);
  return { ...untraced, traced: (trace) => (trace === NO_TRACE ? untraced : portsIn(trace)) };
}
