import type { AgentBalance } from '@swarm/client';
import { ACCOUNT_ID_TEXT, BalanceResponse, isAccountId } from '@swarm/contracts';
import { agentClientFor } from '../agent-mode';
import { CliError } from '../cli-error';
import type { NodeTarget } from '../node-file';
import { connectToNode } from '../node-file';
import { credits, printJson, printTable, protoJson } from '../output';

/** Why `swarm ledger` shows other figures: the account is not what the node may pay other nodes. */
export const NODE_ACCOUNT_NOTE =
  "note: this is the node's account, which its own tasks and agents spend; what it may pay other nodes is its chain's balance (`swarm ledger`), where most of a new node's grant stays locked until it first serves another node\n";

/**
 * `swarm balance`: an account's credit on the node's bus, or as an agent (agent-mode.ts) the
 * agent's own: its budget, spend and tasks beside what is available and escrowed. An agent sees
 * only its own account, so `--account` is refused there.
 */
export async function balanceCommand(opts: NodeTarget & { account?: string; json?: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // An empty --account is a slip (an unset variable), not a way to name the node's account.
  if (opts.account === '') throw new CliError('SWARM_BAD_ARGS', '--account needs an account id (leave it out for the node account)');
  // The ledger's rule, checked here: an id it would refuse is bad usage, and never sent.
  if (opts.account !== undefined && !isAccountId(opts.account)) {
    throw new CliError('SWARM_BAD_ARGS', `--account must be a ledger account: ${ACCOUNT_ID_TEXT}; got ${opts.account.length} characters`);
  }
  const agent = await agentClientFor(opts, env);
  if (agent) {
    if (opts.account !== undefined) throw new CliError('SWARM_BAD_ARGS', "--account has no meaning for an agent: the HTTP API answers the agent's own account only");
    return printAgentBalance(await agent.balance(), opts.json === true);
  }
  const client = await connectToNode(opts, 'client', env);
  try {
    const b = await client.balance(opts.account ?? '');
    if (opts.json) return printJson(protoJson(BalanceResponse, b));
    printTable([
      ['account', b.account],
      ['available', credits(b.available)],
      ['escrowed', credits(b.escrowed)],
      // Paid out of its escrows, ever: for the node's account, its own executors' share comes back into available.
      ['spent', credits(b.spent)],
    ]);
    // The node's account and its chain differ, and a new user meets both (docs/chain.md).
    if (opts.account === undefined) process.stderr.write(NODE_ACCOUNT_NOTE);
  } finally {
    await client.close();
  }
}

/** `--json`: the API's own balance document (AgentBalance in docs/cli-json.schema.json), uint64 as decimal strings. */
function printAgentBalance(b: AgentBalance, json: boolean): void {
  if (json) return printJson({ account: b.account, available: b.available, escrowed: b.escrowed, budget: b.budget, spent: b.spent, tasks: b.tasks });
  printTable([
    ['account', b.account],
    ['available', credits(b.available)],
    ['escrowed', credits(b.escrowed)],
    ['budget', credits(b.budget)],
    ['spent', credits(b.spent)],
    ['tasks', String(b.tasks)],
  ]);
}
