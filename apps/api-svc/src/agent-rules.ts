/**
 * What an agent is and the rules of its life, pure: names, budgets and lifetimes accepted, the
 * ledger account and transfer ids derived from it, whether its token works at a given time.
 *
 * Transfer ids are functions of the agent (name and creation time), so a retried fund or defund
 * names the same transfer and credit-svc moves the credit at most once.
 */
import type { AgentInfo, AddAgentRequest, BalanceResponse } from '@swarm/contracts';
import { AGENT_NAME_TEXT, agentAccount, ErrorCode, isAgentName, SwarmError } from '@swarm/contracts';

/** A node's agents fit one ListAgents reply (~120 bytes each) and one small file. */
export const MAX_AGENTS = 1_000;
/** Shortest token lifetime: anything shorter expires before its first use. */
export const MIN_TTL_MS = 60_000;
/** Longest: ten years, far inside a uint64 and a JS number. */
export const MAX_TTL_MS = 10 * 365 * 24 * 3600 * 1000;
const MAX_UINT64 = (1n << 64n) - 1n;

export interface AgentRecord {
  readonly name: string;
  /** `agent/<name>`. */
  readonly account: string;
  /** Credits the node moved into its account at creation. */
  readonly budget: bigint;
  readonly createdAtMs: number;
  /** 0: never. */
  readonly expiresAtMs: number;
  readonly revoked: boolean;
  /** Hex SHA-256 of its token (agent-token.ts). */
  readonly tokenHash: string;
  /** False until credit-svc confirmed the fund transfer: the token works only once funded. */
  readonly funded: boolean;
  /** Credits returned to the node by its revocation (and any later defund). */
  readonly returned: bigint;
  /** Defund transfers completed; names the next one's transfer id. */
  readonly defunds: number;
}

export function fundTransferId(agent: Pick<AgentRecord, 'name' | 'createdAtMs'>): string {
  return `fund.${agent.name}.${agent.createdAtMs}`;
}

/**
 * Each defund is its own transfer. A revocation closes the account, so what its open escrows return
 * goes to the node; a later revoke (of an agent revoked before accounts closed) returns what is left.
 */
export function defundTransferId(agent: Pick<AgentRecord, 'name' | 'createdAtMs' | 'defunds'>): string {
  return `defund.${agent.name}.${agent.createdAtMs}.${agent.defunds + 1}`;
}

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message);
}

export function checkAgentName(name: string): void {
  if (!isAgentName(name)) {
    throw invalid(`agent name must be ${AGENT_NAME_TEXT}, got ${name.length > 32 ? `${name.length} characters` : JSON.stringify(name)}`);
  }
}

/** Throws INVALID_ARGUMENT for a bad name, budget or lifetime; returns the expiry (0: never). */
export function checkAddAgent(req: AddAgentRequest, nowMs: number): { expiresAtMs: number } {
  checkAgentName(req.name);
  if (req.budget <= 0n || req.budget > MAX_UINT64) throw invalid('budget must be a whole number of credits above 0');
  if (req.ttlMs === 0n) return { expiresAtMs: 0 };
  if (req.ttlMs < BigInt(MIN_TTL_MS) || req.ttlMs > BigInt(MAX_TTL_MS)) {
    throw invalid(`ttlMs must be 0 (no expiry) or from ${MIN_TTL_MS} (1 min) to ${MAX_TTL_MS} (10 years)`);
  }
  return { expiresAtMs: nowMs + Number(req.ttlMs) };
}

export function newAgentRecord(name: string, budget: bigint, createdAtMs: number, expiresAtMs: number, tokenHash: string): AgentRecord {
  return { name, account: agentAccount(name), budget, createdAtMs, expiresAtMs, revoked: false, tokenHash, funded: false, returned: 0n, defunds: 0 };
}

/** Why the agent's token does not work now (a message for the caller), or undefined when it does. */
export function tokenProblem(agent: AgentRecord, nowMs: number): string | undefined {
  if (agent.revoked) return 'this agent token was revoked';
  if (!agent.funded) return 'this agent is not funded yet (its creation did not finish)';
  if (agent.expiresAtMs !== 0 && nowMs >= agent.expiresAtMs) return 'this agent token expired';
  return undefined;
}

/**
 * What the ledger says of an agent's account. Spend and tasks come from there, not from api-svc:
 * the ledger counts them in the commits that move the credit, so they stay true when api-svc dies
 * mid-task. A task is an escrow its account reserved (the router reserves one per task).
 */
export type AgentLedger = Pick<BalanceResponse, 'available' | 'spent' | 'reserves'>;

/** An account the ledger does not know yet (never funded): nothing in it, nothing done. */
export const NO_LEDGER: AgentLedger = Object.freeze({ available: 0n, spent: 0n, reserves: 0n });

export function toAgentInfo(agent: AgentRecord, ledger: AgentLedger): AgentInfo {
  return {
    name: agent.name,
    account: agent.account,
    budget: agent.budget,
    available: ledger.available,
    spent: ledger.spent,
    tasks: ledger.reserves,
    createdAtMs: BigInt(agent.createdAtMs),
    expiresAtMs: BigInt(agent.expiresAtMs),
    revoked: agent.revoked,
  };
}
