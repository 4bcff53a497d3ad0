/**
 * The operator's agent commands on the bus (`swarm agent add|list|revoke`, observer role only).
 *
 * Add records the agent (unfunded: its token does not work yet), then has credit-svc fund it under
 * a transfer id derived from the agent, then marks it funded and answers the token, once. A fund
 * that surely failed (no credit, bad request) removes the record; one whose fate is unknown
 * (timeout, credit-svc down) keeps it, and an add retried with the same name and budget funds it
 * under the same transfer id, so credit moves at most once.
 *
 * Revoke marks the agent revoked first, in memory at once (its next request is refused), then has
 * credit-svc return its available credit to the node and close its account in the same commit:
 * what its open escrows return later (a task that fails, expires or costs less than its budget)
 * goes to the node too, so one revoke leaves nothing behind. Operations run one at a time.
 *
 * List and revoke answer spend and tasks from the ledger (AgentLedger in agent-rules.ts).
 */
import type { BusClient } from '@swarm/bus';
import type { AddAgentRequest, AddAgentResponse, ListAgentsResponse, RevokeAgentRequest, RevokeAgentResponse } from '@swarm/contracts';
import { CreditBalance, CreditDefundAgent, CreditFundAgent, ErrorCode, isSwarmError, SwarmError } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import type { Logger, TraceContext } from '@swarm/telemetry';
import type { AgentLedger, AgentRecord } from './agent-rules';
import { checkAddAgent, checkAgentName, defundTransferId, fundTransferId, MAX_AGENTS, newAgentRecord, NO_LEDGER, toAgentInfo } from './agent-rules';
import type { AgentStore } from './agent-store';
import { hashToken, newToken } from './agent-token';

/** Balance requests in flight at once while listing agents. */
const LIST_CONCURRENCY = 16;

export interface AgentAdminDeps {
  store: AgentStore;
  bus: BusClient;
  clock: WallClock;
  randomBytes(n: number): Uint8Array;
  log: Logger;
}

/** `trace`: the operator's request's (HandlerContext.trace), for the ledger calls it makes. */
export interface AgentAdmin {
  add(req: AddAgentRequest, trace?: TraceContext): Promise<AddAgentResponse>;
  list(trace?: TraceContext): Promise<ListAgentsResponse>;
  revoke(req: RevokeAgentRequest, trace?: TraceContext): Promise<RevokeAgentResponse>;
}

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message);
}

export function createAgentAdmin(deps: AgentAdminDeps): AgentAdmin {
  const { store, bus } = deps;
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(op: () => Promise<T>): Promise<T> => {
    const next = queue.then(op, op);
    queue = next.catch(() => undefined);
    return next;
  };

  async function ledgerOf(agent: AgentRecord, trace: TraceContext | undefined): Promise<AgentLedger> {
    if (!agent.funded && !agent.revoked) return NO_LEDGER;
    try {
      return await bus.request(CreditBalance, { account: agent.account }, { trace });
    } catch (err) {
      if (isSwarmError(err, ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT)) return NO_LEDGER;
      throw err;
    }
  }

  async function add(req: AddAgentRequest, trace: TraceContext | undefined): Promise<AddAgentResponse> {
    const now = deps.clock.now();
    const { expiresAtMs } = checkAddAgent(req, now);
    const existing = store.get(req.name);
    if (existing?.revoked) throw invalid(`agent '${req.name}' was revoked; its name stays with its history: choose another`);
    if (existing?.funded) throw invalid(`agent '${req.name}' exists; revoke it or choose another name`);
    if (existing && existing.budget !== req.budget) {
      throw invalid(`agent '${req.name}' awaits funding of ${existing.budget} credits from an add that did not finish: retry with that budget, or revoke it`);
    }
    if (!existing && store.size() >= MAX_AGENTS) throw invalid(`this node holds at most ${MAX_AGENTS} agents (revoked ones included)`);
    const token = newToken((n) => deps.randomBytes(n));
    // A retried add keeps the creation time, and so the fund's transfer id.
    const record = newAgentRecord(req.name, req.budget, existing?.createdAtMs ?? now, expiresAtMs, hashToken(token));
    await store.put(record);
    let agentAvailable: bigint;
    try {
      agentAvailable = (await bus.request(CreditFundAgent, { agentAccount: record.account, amount: record.budget, transferId: fundTransferId(record) }, { trace })).agentAvailable;
    } catch (err) {
      // Retryable: the transfer may have happened; the record stays for a retry under the same id.
      if (!isSwarmError(err) || !err.retryable) await store.remove(record.name);
      else deps.log.warn({ agent: record.name, code: err.code }, 'funding an agent did not finish; a retried add with the same budget completes it');
      throw err;
    }
    const funded = (await store.update(record.name, (a) => ({ ...a, funded: true }))) ?? record;
    deps.log.info({ agent: record.name, budget: String(record.budget), expiresAtMs }, 'agent added');
    return { agent: toAgentInfo(funded, { ...NO_LEDGER, available: agentAvailable }), token };
  }

  async function list(trace: TraceContext | undefined): Promise<ListAgentsResponse> {
    const agents = store.list();
    const infos = [];
    for (let i = 0; i < agents.length; i += LIST_CONCURRENCY) {
      const batch = agents.slice(i, i + LIST_CONCURRENCY);
      infos.push(...(await Promise.all(batch.map(async (a) => toAgentInfo(a, await ledgerOf(a, trace))))));
    }
    return { agents: infos };
  }

  async function revoke(req: RevokeAgentRequest, trace: TraceContext | undefined): Promise<RevokeAgentResponse> {
    checkAgentName(req.name);
    const agent = await store.update(req.name, (a) => ({ ...a, revoked: true }));
    if (!agent) throw invalid(`no agent named '${req.name}' on this node`);
    let returned = 0n;
    try {
      returned = (await bus.request(CreditDefundAgent, { agentAccount: agent.account, transferId: defundTransferId(agent), close: true }, { trace })).returned;
    } catch (err) {
      // Never funded: nothing to return.
      if (!isSwarmError(err, ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT)) throw err;
      return { agent: toAgentInfo(agent, NO_LEDGER), returned: 0n };
    }
    const after = (await store.update(agent.name, (a) => ({ ...a, returned: a.returned + returned, defunds: a.defunds + 1 }))) ?? agent;
    deps.log.info({ agent: agent.name, returned: String(returned) }, 'agent revoked');
    // The account is closed: escrows still open return to the node when they close.
    return { agent: toAgentInfo(after, await ledgerOf(after, trace)), returned };
  }

  return {
    add: (req, trace) => oneAtATime(() => add(req, trace)),
    list: (trace) => oneAtATime(() => list(trace)),
    revoke: (req, trace) => oneAtATime(() => revoke(req, trace)),
  };
}
