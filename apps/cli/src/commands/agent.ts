import type { SwarmClient } from '@swarm/client';
import type { AgentInfo, BalanceResponse } from '@swarm/contracts';
import { AddAgentResponse, ErrorCode, isSwarmError, ListAgentsResponse, RevokeAgentResponse } from '@swarm/contracts';
import { readNodeFile } from '@swarm/node';
import { CliError } from '../cli-error';
import type { NodeTarget } from '../node-file';
import { connectToNode, resolveNodeHome } from '../node-file';
import { credits, printGrid, printJson, printTable, protoJson } from '../output';

export interface AgentOptions extends NodeTarget {
  json?: boolean;
}

export interface AgentAddOptions extends AgentOptions {
  /** Parsed by main.ts: a whole number of credits. */
  budget: bigint;
  /** Parsed by main.ts from `--expires 7d`: the token's lifetime in ms; unset: no expiry. */
  expires?: number;
}

/** Agent commands are the operator's: with a client key the bus refuses them. */
async function asOperator<T>(opts: NodeTarget, run: (client: SwarmClient) => Promise<T>): Promise<T> {
  const client: SwarmClient = await connectToNode(opts, 'observer');
  try {
    return await run(client);
  } catch (err) {
    if (!isSwarmError(err, ErrorCode.ERROR_CODE_PERMISSION_DENIED)) throw err;
    throw new CliError(
      'SWARM_PERMISSION_DENIED',
      "agents are managed by the node's operator: it needs the node's observer key (<data-dir>/bus/observer.nk, found through --data-dir or SWARM_HOME); a client key may not",
    );
  } finally {
    await client.close();
  }
}

/**
 * `swarm agent add NAME --budget N [--expires 7d]`: api-svc creates the agent, funds its account
 * (`agent/NAME`) from the node's, and prints its bearer token once (the node keeps only a hash).
 */
export async function agentAddCommand(name: string, opts: AgentAddOptions): Promise<void> {
  const res = await asOperator(opts, (c) => c.addAgent({ name, budget: opts.budget, ttlMs: BigInt(opts.expires ?? 0) }));
  if (opts.json) return printJson(protoJson(AddAgentResponse, res));
  const agent = res.agent as AgentInfo;
  const http = (await readNodeFile(resolveNodeHome(opts)))?.httpAddress;
  printTable([
    ['agent', agent.name],
    ['account', agent.account],
    ['budget', credits(agent.budget)],
    ['expires', expiry(agent)],
    ['token', res.token],
    ...(http ? ([['HTTP API', `http://${http} (Authorization: Bearer <token>)`]] as Array<[string, string]>) : []),
  ]);
  process.stderr.write('the token is shown only now (the node keeps only its hash): store it where the agent reads it\n');
}

/** `swarm agent list`: every agent with its budget, available credit, spend and tasks. */
export async function agentListCommand(opts: AgentOptions): Promise<void> {
  const res = await asOperator(opts, (c) => c.listAgents());
  if (opts.json) return printJson(protoJson(ListAgentsResponse, res));
  if (res.agents.length === 0) {
    process.stdout.write('no agents yet; add one with `swarm agent add NAME --budget N`\n');
    return;
  }
  const now = Date.now();
  printGrid(
    ['agent', 'budget', 'available', 'spent', 'tasks', 'expires', 'state'],
    res.agents.map((a) => [a.name, String(a.budget), String(a.available), String(a.spent), String(a.tasks), expiry(a), stateOf(a, now)]),
  );
  for (const line of leftoverLines(res.agents, now)) process.stderr.write(`${line}\n`);
}

/**
 * Credit sitting in agents whose token no longer works: an expired agent keeps its credit until
 * revoked, and so does an agent revoked before revocation closed accounts (its escrows refunded
 * into it); a revoke now returns it and closes the account.
 */
export function leftoverLines(agents: readonly AgentInfo[], now: number): string[] {
  return agents
    .filter((a) => a.available > 0n && stateOf(a, now) !== 'active')
    .map((a) => `${a.name} is ${stateOf(a, now)} with ${credits(a.available)} still in ${a.account}: \`swarm agent revoke ${a.name}\` returns them to the node`);
}

/**
 * `swarm agent revoke NAME`: its token stops at once; its available credit returns to the node and
 * its account closes. What its running tasks hold in escrow returns to the node as they end (their
 * unspent budget, or all of it for a task that fails), so the command says how much that is.
 */
export async function agentRevokeCommand(name: string, opts: AgentOptions): Promise<void> {
  const { res, balance } = await asOperator(opts, async (c) => {
    const revoked = await c.revokeAgent(name);
    // Read after the defund: the revoke itself succeeded, so a balance that cannot be read is only unknown.
    const after = await c.balance(revoked.agent?.account ?? `agent/${name}`).catch(() => undefined);
    return { res: revoked, balance: after };
  });
  if (opts.json) return printJson(protoJson(RevokeAgentResponse, res));
  const { rows, notes } = revokeReport(name, res, balance);
  printTable(rows);
  for (const note of notes) process.stderr.write(`${note}\n`);
}

/** The revoke's table, and what is still to return to the node (no notes when nothing is). */
export function revokeReport(name: string, res: RevokeAgentResponse, balance: BalanceResponse | undefined): { rows: Array<[string, string]>; notes: string[] } {
  const account = res.agent?.account ?? `agent/${name}`;
  const escrowed = balance?.escrowed;
  // Nothing comes back into a closed account; shown only if the ledger says otherwise.
  const available = balance?.available ?? res.agent?.available ?? 0n;
  const rows: Array<[string, string]> = [
    ['agent', `${name} (revoked: its token no longer works)`],
    ['returned to the node', credits(res.returned)],
    ['in open escrows', escrowed === undefined ? `unknown (credit-svc did not answer; see \`swarm balance --account ${account}\`)` : credits(escrowed)],
    ...(available > 0n ? ([['left in its account', credits(available)]] as Array<[string, string]>) : []),
    ['spent', credits(res.agent?.spent ?? 0n)],
  ];
  const notes: string[] = [];
  if (escrowed === undefined || escrowed > 0n) {
    const held = escrowed === undefined ? 'may still hold credit' : `still hold ${credits(escrowed)}`;
    notes.push(`its running tasks ${held} in escrow: what they do not spend returns to the node's account as they end (${account} is closed)`);
  }
  return { rows, notes };
}

function expiry(a: AgentInfo): string {
  return a.expiresAtMs === 0n ? 'never' : new Date(Number(a.expiresAtMs)).toISOString();
}

function stateOf(a: AgentInfo, now: number): string {
  if (a.revoked) return 'revoked';
  return a.expiresAtMs !== 0n && Number(a.expiresAtMs) <= now ? 'expired' : 'active';
}
