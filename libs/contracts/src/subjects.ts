/**
 * Every NATS subject of a node, declared once beside the protobuf types it carries.
 *
 * Scheme: `swarm.v<major>.<service>.<verb>` for request/reply, `swarm.v<major>.events.<topic>` for
 * events. Subjects are local to one node's bus; peers never see them (the gateway translates).
 * Only `bus.serve`/`bus.request`/`bus.publish` use these values.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { HealthRequest, HealthResponse } from './gen/swarm/v1/common';
import {
  AuditRequest,
  AuditResponse,
  EscrowRequest,
  EscrowResponse,
  BalanceRequest,
  BalanceResponse,
  LedgerEntry,
  RefundRequest,
  RefundResponse,
  ReserveRequest,
  ReserveResponse,
  SettleRequest,
  SettleResponse,
} from './gen/swarm/v1/credit';
import { ExecuteRequest, ExecuteResponse, ListSkillsRequest, ListSkillsResponse } from './gen/swarm/v1/executor';
import { FindProvidersRequest, FindProvidersResponse, ListPeersRequest, ListPeersResponse } from './gen/swarm/v1/registry';
import { SubmitTaskRequest, SubmitTaskResponse, TaskFinished, TaskStatusRequest, TaskStatusResponse } from './gen/swarm/v1/task';

export interface Codec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: Uint8Array, length?: number): T;
  fromPartial(object: never): T;
}

export type ServiceName = 'router' | 'credit' | 'executor' | 'registry' | 'gateway';

export interface Rpc<Req, Res> {
  readonly subject: string;
  readonly service: ServiceName;
  /** Endpoint name for the NATS services framework (last subject token). */
  readonly endpoint: string;
  readonly request: Codec<Req>;
  readonly response: Codec<Res>;
}

export interface EventTopic<T> {
  readonly subject: string;
  readonly codec: Codec<T>;
}

function rpc<Req, Res>(subject: string, request: Codec<Req>, response: Codec<Res>): Rpc<Req, Res> {
  const [, , service, endpoint] = subject.split('.');
  return Object.freeze({ subject, service: service as ServiceName, endpoint, request, response });
}

function event<T>(subject: string, codec: Codec<T>): EventTopic<T> {
  return Object.freeze({ subject, codec });
}

export const RouterSubmit = rpc('swarm.v1.router.submit', SubmitTaskRequest, SubmitTaskResponse);
export const RouterHealth = rpc('swarm.v1.router.health', HealthRequest, HealthResponse);
export const RouterTask = rpc('swarm.v1.router.task', TaskStatusRequest, TaskStatusResponse);

export const CreditReserve = rpc('swarm.v1.credit.reserve', ReserveRequest, ReserveResponse);
export const CreditSettle = rpc('swarm.v1.credit.settle', SettleRequest, SettleResponse);
export const CreditRefund = rpc('swarm.v1.credit.refund', RefundRequest, RefundResponse);
export const CreditBalance = rpc('swarm.v1.credit.balance', BalanceRequest, BalanceResponse);
export const CreditHealth = rpc('swarm.v1.credit.health', HealthRequest, HealthResponse);
/** Replays the whole ledger log and answers a bounded summary; holds up ledger writes while it runs. */
export const CreditAudit = rpc('swarm.v1.credit.audit', AuditRequest, AuditResponse);
export const CreditEscrow = rpc('swarm.v1.credit.escrow', EscrowRequest, EscrowResponse);

export const ExecutorExecute = rpc('swarm.v1.executor.execute', ExecuteRequest, ExecuteResponse);
export const ExecutorSkills = rpc('swarm.v1.executor.skills', ListSkillsRequest, ListSkillsResponse);
export const ExecutorHealth = rpc('swarm.v1.executor.health', HealthRequest, HealthResponse);
/** Every executor-svc replica joins this queue group, so N replicas share the load. */
export const EXECUTOR_QUEUE = 'swarm.executor';

export const RegistryFindProviders = rpc('swarm.v1.registry.providers', FindProvidersRequest, FindProvidersResponse);
export const RegistryHealth = rpc('swarm.v1.registry.health', HealthRequest, HealthResponse);

export const GatewayPeers = rpc('swarm.v1.gateway.peers', ListPeersRequest, ListPeersResponse);
export const GatewayHealth = rpc('swarm.v1.gateway.health', HealthRequest, HealthResponse);

export const HEALTH_BY_SERVICE: Readonly<Record<ServiceName, Rpc<HealthRequest, HealthResponse>>> = Object.freeze({
  router: RouterHealth,
  credit: CreditHealth,
  executor: ExecutorHealth,
  registry: RegistryHealth,
  gateway: GatewayHealth,
});

export const TaskFinishedEvents = event('swarm.v1.events.task.finished', TaskFinished);
export const LedgerEntryEvents = event('swarm.v1.events.ledger.entry', LedgerEntry);

/** Every request/reply subject, for tests that probe each one with bad input. */
export const ALL_RPCS: ReadonlyArray<Rpc<unknown, unknown>> = [
  RouterSubmit, RouterHealth, RouterTask,
  CreditReserve, CreditSettle, CreditRefund, CreditBalance, CreditHealth, CreditAudit, CreditEscrow,
  ExecutorExecute, ExecutorSkills, ExecutorHealth,
  RegistryFindProviders, RegistryHealth,
  GatewayPeers, GatewayHealth,
] as ReadonlyArray<Rpc<unknown, unknown>>;
