/**
 * createSwarmMcpServer, loaded on first use: the MCP SDK, zod and ajv add ~100 ms to every process
 * that loads this library (each CLI command, the node launcher), and only `swarm mcp` and api-svc's
 * /mcp need them.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AgentClient } from './agent-client';
import type * as McpServerModule from './mcp-server';
import type { SwarmMcpOptions, SwarmMcpServerFactory } from './mcp-server';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
const load = () => require('./mcp-server') as typeof McpServerModule;

export function createSwarmMcpServer(api: AgentClient, opts: SwarmMcpOptions): Server {
  return load().createSwarmMcpServer(api, opts);
}

export function swarmMcpServerFactory(opts: SwarmMcpOptions): SwarmMcpServerFactory {
  return load().swarmMcpServerFactory(opts);
}
