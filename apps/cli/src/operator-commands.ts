/**
 * The commands only the node's operator runs (always over the bus, never as an agent), and what to
 * say when one was run with only an agent's environment. No imports: main.ts reads it on every
 * failure.
 */

/** Commands only the node's operator runs: always over the bus, never as an agent. */
const OPERATOR_COMMANDS: ReadonlySet<string> = new Set(['health', 'ledger', 'trust', 'agent']);

/**
 * What to add to "no running node found" when an operator command was run with only an agent's
 * environment (SWARM_AGENT_TOKEN / SWARM_API_URL): those do not reach it. `args`: the command line
 * after `swarm`.
 */
export function operatorOnlyHint(args: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const command = args.find((a) => !a.startsWith('-'));
  if (command === undefined || !OPERATOR_COMMANDS.has(command)) return undefined;
  const agentVars = ['SWARM_AGENT_TOKEN', 'SWARM_API_URL'].filter((v) => (env[v] ?? '') !== '');
  if (agentVars.length === 0) return undefined;
  return `swarm ${command} is the node operator's: it runs over the node's bus (on the node's machine, or with --nats and a bus key), and ${agentVars.join(' and ')} ${agentVars.length > 1 ? 'do' : 'does'} not reach it`;
}
