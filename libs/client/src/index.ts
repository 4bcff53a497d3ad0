export { connectSwarm, NodeUnreachableError, BusAccessError, CONNECT_TIMEOUT_MS, DEFAULT_SUBMIT_TIMEOUT_MS } from './swarm-client';
export type { SwarmClient, ConnectOptions } from './swarm-client';
export { createAgentClient, outcomeOf, DEFAULT_RATE_LIMIT_RETRIES, JSON_BODY_MAX_VALUES } from './agent-client';
export type { AgentClient, AgentClientOptions, CallOptions, WaitOptions } from './agent-client';
export type {
  AgentBalance,
  AgentPeer,
  AgentSkill,
  AgentSkills,
  AgentTask,
  InputTensor,
  NamedShape,
  TaskAccepted,
  TaskErrorInfo,
  TaskEvent,
  TaskQuote,
  TaskResult,
  TaskStatus,
  TaskTiming,
  TaskContribution,
  TaskShard,
} from './agent-api-types';
export { AgentApiError } from './api-error';
export { f32FromBase64 } from './agent-api-wire';
export {
  apiBaseUrl,
  connectToNode,
  isProcessAlive,
  NODE_FILE,
  readNodeAnnouncement,
  resolveApiUrl,
  resolveBusKey,
  resolveHome,
  resolveNatsUrl,
  resolveNodeHome,
  swarmNodeHome,
} from './node-discovery';
export type { NodeAnnouncement, NodeTarget } from './node-discovery';
export { createSwarmMcpServer, swarmMcpServerFactory } from './mcp-server-loader';
export { MCP_MAX_RESULT_VALUES } from './mcp-json';
export { mcpBatchProblems, mcpRequestProblem, MAX_JSONRPC_ID_CHARS } from './mcp-request-checks';
export type { JsonRpcErrorReply } from './mcp-request-checks';
export type { SwarmMcpOptions, SwarmMcpServerFactory } from './mcp-server';
