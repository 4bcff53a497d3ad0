/**
 * Bus or agent: whether a task command (submit, balance, skills, peers, task) talks to the node's
 * NATS bus with a bus key, or acts as an agent through the node's HTTP API with the token in
 * SWARM_AGENT_TOKEN. The rule, in order (README, "The CLI as an agent"):
 *   1. `--api-url` given: the agent API (with `--nats`, `--data-dir` or `--node` too: bad usage).
 *   2. `--nats`, `--data-dir` or `--node` given: the bus, whatever the environment says.
 *   3. SWARM_AGENT_TOKEN or SWARM_API_URL set: the agent API (SWARM_NATS_URL set as well: bad
 *      usage, since either could be meant).
 *   4. Otherwise the bus, as before.
 * The token comes from the environment only: a command line is visible to every user in `ps`.
 */
import type { AgentClient } from '@swarm/client';
import { apiBaseUrl, createAgentClient, resolveApiUrl } from '@swarm/client';
import { CliError } from './cli-error';
import type { NodeTarget } from './node-file';

/** What `swarm agent add` prints: swt_ and 43 base64url characters (32 random bytes). */
const TOKEN_SHAPE = /^swt_[A-Za-z0-9_-]{43}$/;
/** The most of a bad URL an error message repeats. */
const MAX_ECHO_CHARS = 80;

export type AgentTarget = Pick<NodeTarget, 'nats' | 'dataDir' | 'node' | 'apiUrl'>;

function echo(text: string): string {
  return text.length > MAX_ECHO_CHARS ? `${text.slice(0, MAX_ECHO_CHARS - 1)}…` : text;
}

/** "--nats names" / "--nats, --node name": the flags of a sentence's subject. */
function flagsName(flags: readonly string[]): string {
  return `${flags.join(', ')} ${flags.length > 1 ? 'name' : 'names'}`;
}

/** The flags of `opts` that name the node's bus. */
function busFlags(opts: AgentTarget): string[] {
  return [opts.nats !== undefined && '--nats', opts.dataDir !== undefined && '--data-dir', opts.node !== undefined && '--node'].filter((f): f is string => f !== false);
}

/** True when the command acts as an agent over the HTTP API (rule in the header). */
export function usesAgentApi(opts: AgentTarget, env: NodeJS.ProcessEnv = process.env): boolean {
  const bus = busFlags(opts);
  if (opts.apiUrl !== undefined) {
    if (bus.length > 0) throw new CliError('SWARM_BAD_ARGS', `--api-url acts as an agent over the HTTP API and ${flagsName(bus)} the node's bus: give one or the other`);
    return true;
  }
  if (bus.length > 0) return false;
  const agentVars = ['SWARM_AGENT_TOKEN', 'SWARM_API_URL'].filter((v) => (env[v] ?? '') !== '');
  if (agentVars.length === 0) return false;
  if ((env['SWARM_NATS_URL'] ?? '') !== '') {
    throw new CliError(
      'SWARM_BAD_ARGS',
      `both SWARM_NATS_URL (the node's bus) and ${agentVars.join(' and ')} (an agent over the HTTP API) are set: pass --nats or --api-url to choose, or unset one`,
    );
  }
  return true;
}

/** The agent token from SWARM_AGENT_TOKEN; a missing or malformed one is bad usage (exit 2). */
export function agentToken(env: NodeJS.ProcessEnv = process.env): string {
  const token = env['SWARM_AGENT_TOKEN'] ?? '';
  if (token === '') {
    throw new CliError(
      'SWARM_BAD_ARGS',
      "set SWARM_AGENT_TOKEN to the agent's token (swt_… from `swarm agent add NAME --budget N`) to act as that agent over the HTTP API; it is read from the environment only, never from a flag",
    );
  }
  if (!TOKEN_SHAPE.test(token)) throw new CliError('SWARM_BAD_ARGS', 'SWARM_AGENT_TOKEN is not an agent token: expected swt_ and 43 characters, as `swarm agent add` prints it');
  return token;
}

/** An http(s) base URL with no credentials, query or fragment; `source` names where it came from. */
function checkedApiUrl(value: string, source: string): void {
  let url: URL | undefined;
  try {
    // Any other scheme is refused, not read as a host name (`ftp://h` is not `http://ftp://h`).
    url = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^https?:\/\//i.test(value) ? undefined : new URL(apiBaseUrl(value));
  } catch {
    url = undefined;
  }
  // A bare host needs its port (`notaurl` is no API; URL drops a default :80 from `port`, so the text
  // is read); a path may be a proxy's prefix, but not the API's own `/v1`, which every route adds.
  const bareWithoutPort = url !== undefined && !/^https?:\/\//i.test(value) && !/:\d{1,5}\/?$/.test(value);
  const apiPath = url !== undefined && /\/v1\/?$/.test(url.pathname);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash || !url.hostname || apiPath || bareWithoutPort) {
    throw new CliError('SWARM_BAD_ARGS', `${source} must be the node's agent API as http(s)://host:port or host:port (without /v1), got '${echo(value)}'`);
  }
}

/** The agent API's base URL: `--api-url`, then SWARM_API_URL (each checked), then node.json's httpAddress. */
export async function agentApiUrl(opts: AgentTarget, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (opts.apiUrl !== undefined) checkedApiUrl(opts.apiUrl, '--api-url');
  else if ((env['SWARM_API_URL'] ?? '') !== '') checkedApiUrl(env['SWARM_API_URL'] as string, 'SWARM_API_URL');
  return resolveApiUrl(opts, env);
}

/**
 * The agent client when the command acts as an agent, else undefined (the bus). Everything is
 * checked before any request: a missing token is bad usage, not a 401.
 */
export async function agentClientFor(opts: AgentTarget, env: NodeJS.ProcessEnv = process.env): Promise<AgentClient | undefined> {
  if (!usesAgentApi(opts, env)) {
    if ((env['SWARM_AGENT_TOKEN'] ?? '') !== '' && busFlags(opts).length > 0) {
      process.stderr.write(`note: ${flagsName(busFlags(opts))} the node's bus: this runs with the bus key, not as the agent in SWARM_AGENT_TOKEN\n`);
    }
    return undefined;
  }
  const token = agentToken(env);
  return createAgentClient({ baseUrl: await agentApiUrl(opts, env), token });
}
