export { ErrorCode, SwarmError as SwarmErrorMessage, Tensor, HealthRequest, HealthResponse } from './gen/swarm/v1/common';
export { SubmitTaskRequest, SubmitTaskResponse, TaskTiming, TaskFinished, TaskState, TaskStatusRequest, TaskStatusResponse, RouterServiceDefinition } from './gen/swarm/v1/task';
export {
  ReserveRequest,
  ReserveResponse,
  SettleRequest,
  SettleResponse,
  Payout,
  RefundRequest,
  RefundResponse,
  BalanceRequest,
  BalanceResponse,
  LedgerEntry,
  EntryKind,
  AuditRequest,
  AuditResponse,
  AuditedAccount,
  EscrowRequest,
  EscrowResponse,
  EscrowState,
  CreditServiceDefinition,
} from './gen/swarm/v1/credit';
export { ExecuteRequest, ExecuteResponse, SkillInfo, ListSkillsRequest, ListSkillsResponse, ExecutorServiceDefinition } from './gen/swarm/v1/executor';
export {
  Provider,
  FindProvidersRequest,
  FindProvidersResponse,
  PeerInfo,
  ListPeersRequest,
  ListPeersResponse,
  DhtRelayPingRequest,
  DhtRelayStoreRequest,
  DhtRelayFindNodeRequest,
  DhtRelayFindValueRequest,
  SignRecordRequest,
  RemoteExecuteRequest,
  FindNodeRecordRequest,
  FindNodeRecordResponse,
  RegistryServiceDefinition,
  GatewayServiceDefinition,
} from './gen/swarm/v1/registry';
export { NodeRecord, SignedNodeRecord, RecordSkill, NodeResources } from './gen/swarm/v1/record';
export {
  NodeInfoRequest,
  NodeInfoResponse,
  PingRequest,
  PingResponse,
  DhtContact,
  DhtPingRequest,
  DhtPingResponse,
  DhtStoreRequest,
  DhtStoreResponse,
  DhtFindNodeRequest,
  DhtFindNodeResponse,
  DhtFindValueRequest,
  DhtFindValueResponse,
  PeerExecuteRequest,
  SignedExecuteResponse,
  PeerServiceDefinition,
} from './gen/swarm/v1/gateway';
export type { Codec, Rpc, EventTopic, ServiceName, ServiceDefinition } from './subjects';
export {
  RouterSubmit,
  RouterHealth,
  RouterTask,
  CreditReserve,
  CreditSettle,
  CreditRefund,
  CreditBalance,
  CreditHealth,
  CreditAudit,
  CreditEscrow,
  ExecutorExecute,
  ExecutorSkills,
  ExecutorHealth,
  EXECUTOR_QUEUE,
  RegistryFindProviders,
  RegistryHealth,
  RegistryPeers,
  RegistryDhtPing,
  RegistryDhtStore,
  RegistryDhtFindNode,
  RegistryDhtFindValue,
  RegistryNodeRecord,
  GatewayPeers,
  GatewayHealth,
  GatewayNodeInfo,
  GatewaySignRecord,
  GatewayDhtPing,
  GatewayDhtStore,
  GatewayDhtFindNode,
  GatewayDhtFindValue,
  GatewayExecute,
  HEALTH_BY_SERVICE,
  TaskFinishedEvents,
  LedgerEntryEvents,
  ALL_RPCS,
  ALL_SERVICE_DEFINITIONS,
} from './subjects';
export { BUS_ROLES, SERVICE_ROLES, BUS_PERMISSIONS, INBOX_ROOT, inboxPrefixOf } from './bus-roles';
export type { BusRole, BusPermissions } from './bus-roles';
export { errorCodeName, ALL_ERROR_CODES, ERROR_CODES, errorCodeInfo, isRetryableByDefault, serviceStatusOf } from './error-codes';
export type { ErrorCodeInfo, RealErrorCode } from './error-codes';
export type { DenseTensor } from './tensor';
export { elementCount, toTensor, fromTensor, decodeTensors } from './tensor';
export { SwarmError, isSwarmError } from './swarm-error';
export { BUS_MAX_PAYLOAD_BYTES, TASK_MAX_ELEMENTS, TASK_MAX_TIMEOUT_MS, TASK_DEFAULT_TIMEOUT_MS } from './limits';
