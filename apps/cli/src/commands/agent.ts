import type { SwarmClient } from '@swarm/client';
import type { AgentInfo } from '@swarm/contracts';
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
}

/** `swarm agent revoke NAME`: its token stops at once; its unspent credit returns to the node. */
export async function agentRevokeCommand(name: string, opts: AgentOptions): Promise<void> {
  const res = await asOperator(opts, (c) => c.revokeAgent(name));
  if (opts.json) return printJson(protoJson(RevokeAgentResponse, res));
  printTable([
    ['agent', `${name} (revoked: its token no longer works)`],
    ['returned to the node', credits(res.returned)],
    ['spent', credits(res.agent?.spent ?? 0n)],
  ]);
}

function expiry(a: AgentInfo): string {
  return a.expiresAtMs === 0n ? 'never' : new Date(Number(a.expiresAtMs)).toISOString();
}

function stateOf(a: AgentInfo, now: number): string {
  if (a.revoked) return 'revoked';
  return a.expiresAtMs !== 0n && Number(a.expiresAtMs) <= now ? 'expired' : 'active';
}
