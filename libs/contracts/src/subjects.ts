/**
 * Every NATS subject of a node, declared once beside the protobuf types it carries.
 *
 * Scheme: `swarm.v<major>.<service>.<verb>` for request/reply, `swarm.v<major>.events.<topic>` for
 * events. Subjects are local to one node's bus; peers never see them (the gateway translates).
 * Only `bus.serve`/`bus.request`/`bus.publish` use these values.
 */
import type { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { HealthRequest, HealthResponse } from './gen/swarm/v1/common';
import { ApiServiceDefinition } from './gen/swarm/v1/api';
import { CreditServiceDefinition, LedgerEntry } from './gen/swarm/v1/credit';
import { ExecutorServiceDefinition } from './gen/swarm/v1/executor';
import { GatewayServiceDefinition, RegistryServiceDefinition } from './gen/swarm/v1/registry';
import { RouterServiceDefinition, TaskFinished } from './gen/swarm/v1/task';

export interface Codec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: Uint8Array, length?: number): T;
  fromPartial(object: never): T;
  /** The proto3 JSON mapping (int64 as strings, enums as names, bytes as base64). */
  toJSON(message: T): unknown;
}

export type ServiceName = 'router' | 'credit' | 'executor' | 'registry' | 'gateway' | 'api';

export interface Rpc<Req, Res> {
  readonly subject: string;
  readonly service: ServiceName;
  /** Endpoint name for the NATS services framework (last subject token). */
  readonly endpoint: string;
  /** The proto rpc it carries, as gRPC names it: `/swarm.v1.RouterService/SubmitTask`. */
  readonly method: string;
  readonly request: Codec<Req>;
  readonly response: Codec<Res>;
}

export interface EventTopic<T> {
  readonly subject: string;
  readonly codec: Codec<T>;
}

/** The shape of a ts-proto generic service definition (outputServices=generic-definitions). */
export interface ServiceDefinition {
  readonly name: string;
  readonly fullName: string;
  readonly methods: Readonly<Record<string, { readonly name: string; readonly requestType: unknown; readonly responseType: unknown }>>;
}

type MessageOf<C> = C extends { decode(input: Uint8Array, length?: number): infer T } ? T : never;
type RequestOf<D extends ServiceDefinition, M extends keyof D['methods']> = MessageOf<D['methods'][M]['requestType']>;
type ResponseOf<D extends ServiceDefinition, M extends keyof D['methods']> = MessageOf<D['methods'][M]['responseType']>;

/**
 * The service blocks in proto/ name every request/reply pair; a subject only picks its wire name.
 * The service token must be the proto service's (`RouterService` -> `router`), checked here at
 * load; subjects.spec.ts checks that every rpc has exactly one subject.
 */
function rpc<D extends ServiceDefinition, M extends keyof D['methods'] & string>(subject: string, definition: D, method: M): Rpc<RequestOf<D, M>, ResponseOf<D, M>> {
  const [, , service = '', endpoint = ''] = subject.split('.');
  if (definition.name !== `${service.charAt(0).toUpperCase()}${service.slice(1)}Service`) {
    throw new Error(`subject ${subject} does not belong to ${definition.fullName}`);
  }
  const m = definition.methods[method];
  return Object.freeze({
    subject,
    service: service as ServiceName,
    endpoint,
    method: `/${definition.fullName}/${m.name}`,
    request: m.requestType as Codec<RequestOf<D, M>>,
    response: m.responseType as Codec<ResponseOf<D, M>>,
  });
}

function event<T>(subject: string, codec: Codec<T>): EventTopic<T> {
  return Object.freeze({ subject, codec });
}

export const RouterSubmit = rpc('swarm.v1.router.submit', RouterServiceDefinition, 'submitTask');
export const RouterHealth = rpc('swarm.v1.router.health', RouterServiceDefinition, 'health');
export const RouterTask = rpc('swarm.v1.router.task', RouterServiceDefinition, 'taskStatus');
/** An agent's task, paid from its own account: api-svc alone may send it (bus-roles.ts). */
export const RouterSubmitAgent = rpc('swarm.v1.router.submit-agent', RouterServiceDefinition, 'submitAgentTask');
export const RouterTaskAgent = rpc('swarm.v1.router.task-agent', RouterServiceDefinition, 'agentTaskStatus');
/** A fork or void breach proof against a node, and the router's trust table: operators only (bus-roles.ts). */
export const RouterReportFork = rpc('swarm.v1.router.report-fork', RouterServiceDefinition, 'reportFork');
export const RouterReportVoidBreach = rpc('swarm.v1.router.report-void-breach', RouterServiceDefinition, 'reportVoidBreach');
export const RouterTrust = rpc('swarm.v1.router.trust', RouterServiceDefinition, 'trust');

export const CreditReserve = rpc('swarm.v1.credit.reserve', CreditServiceDefinition, 'reserve');
export const CreditSettle = rpc('swarm.v1.credit.settle', CreditServiceDefinition, 'settle');
export const CreditRefund = rpc('swarm.v1.credit.refund', CreditServiceDefinition, 'refund');
/** Reserve and settle at once, for a task verified on this node's own executors: router-svc alone (bus-roles.ts). */
export const CreditCharge = rpc('swarm.v1.credit.charge', CreditServiceDefinition, 'charge');
export const CreditBalance = rpc('swarm.v1.credit.balance', CreditServiceDefinition, 'balance');
export const CreditHealth = rpc('swarm.v1.credit.health', CreditServiceDefinition, 'health');
/** Replays the whole ledger log and answers a bounded summary; holds up ledger writes while it runs. */
export const CreditAudit = rpc('swarm.v1.credit.audit', CreditServiceDefinition, 'audit');
export const CreditEscrow = rpc('swarm.v1.credit.escrow', CreditServiceDefinition, 'escrow');
/** Between the node's account and its agents' accounts: api-svc alone may send them. */
export const CreditFundAgent = rpc('swarm.v1.credit.fund-agent', CreditServiceDefinition, 'fundAgent');
export const CreditDefundAgent = rpc('swarm.v1.credit.defund-agent', CreditServiceDefinition, 'defundAgent');
/** A peer's contribution standing (credit this ledger paid it lately): gateway-svc alone may ask (bus-roles.ts). */
export const CreditStanding = rpc('swarm.v1.credit.standing', CreditServiceDefinition, 'standing');
/** A peer's receipt to countersign, relayed by gateway-svc alone (bus-roles.ts); docs/chain.md. */
export const CreditAcceptReceipt = rpc('swarm.v1.credit.accept-receipt', CreditServiceDefinition, 'acceptReceipt');
/** A peer's void of its receipt to this node, relayed by gateway-svc (docs/chain.md "Voids"). */
export const CreditAcceptVoid = rpc('swarm.v1.credit.accept-void', CreditServiceDefinition, 'acceptVoid');
/** A page of the voids this node's payees countersigned: operators auditing a payee (`swarm ledger --peer`). */
export const CreditPaidVoids = rpc('swarm.v1.credit.paid-voids', CreditServiceDefinition, 'paidVoids');
/** A void breach proof against a payee: the receipt is paid after all (operators, `swarm ledger --peer`). */
export const CreditReinstateVoided = rpc('swarm.v1.credit.reinstate-voided', CreditServiceDefinition, 'reinstateVoided');
/** A page of this node's chain: gateway-svc for auditing peers, operators for `swarm ledger`. */
export const CreditChainBlocks = rpc('swarm.v1.credit.chain-blocks', CreditServiceDefinition, 'chainBlocks');
/** Blocks a peer offers of its own chain (it pays this node; its gateway is out of reach), relayed by gateway-svc alone (docs/chain.md "Payers behind NAT"). */
export const CreditAcceptChainOffer = rpc('swarm.v1.credit.accept-chain-offer', CreditServiceDefinition, 'acceptChainOffer');

export const ExecutorExecute = rpc('swarm.v1.executor.execute', ExecutorServiceDefinition, 'execute');
export const ExecutorSkills = rpc('swarm.v1.executor.skills', ExecutorServiceDefinition, 'listSkills');
export const ExecutorHealth = rpc('swarm.v1.executor.health', ExecutorServiceDefinition, 'health');
/** Every executor-svc replica joins this queue group, so N replicas share the load. */
export const EXECUTOR_QUEUE = 'swarm.executor';

export const RegistryFindProviders = rpc('swarm.v1.registry.providers', RegistryServiceDefinition, 'findProviders');
export const RegistryHealth = rpc('swarm.v1.registry.health', RegistryServiceDefinition, 'health');
export const RegistryPeers = rpc('swarm.v1.registry.peers', RegistryServiceDefinition, 'listPeers');
/** A peer's DHT rpcs, relayed by this node's gateway-svc to registry-svc (the caller authenticated). */
export const RegistryDhtPing = rpc('swarm.v1.registry.dht-ping', RegistryServiceDefinition, 'dhtPing');
export const RegistryDhtStore = rpc('swarm.v1.registry.dht-store', RegistryServiceDefinition, 'dhtStore');
export const RegistryDhtFindNode = rpc('swarm.v1.registry.dht-find-node', RegistryServiceDefinition, 'dhtFindNode');
export const RegistryDhtFindValue = rpc('swarm.v1.registry.dht-find-value', RegistryServiceDefinition, 'dhtFindValue');
/** Whether a node has a valid record on the DHT: gateway-svc asks before it runs a peer's task. */
export const RegistryNodeRecord = rpc('swarm.v1.registry.node-record', RegistryServiceDefinition, 'findNodeRecord');
/** credit-svc's sighting of a payer's chain, stored in the DHT, and the sightings other payees stored there (docs/chain.md "Sightings"): credit-svc alone (bus-roles.ts). */
export const RegistryPublishChainSighting = rpc('swarm.v1.registry.publish-sighting', RegistryServiceDefinition, 'publishChainSighting');
export const RegistryFindChainSightings = rpc('swarm.v1.registry.find-sightings', RegistryServiceDefinition, 'findChainSightings');

export const GatewayPeers = rpc('swarm.v1.gateway.peers', GatewayServiceDefinition, 'listPeers');
export const GatewayHealth = rpc('swarm.v1.gateway.health', GatewayServiceDefinition, 'health');
export const GatewayNodeInfo = rpc('swarm.v1.gateway.node-info', GatewayServiceDefinition, 'nodeInfo');
/** Signs with the node key: registry-svc alone may ask (bus-roles.ts). */
export const GatewaySignRecord = rpc('swarm.v1.gateway.sign-record', GatewayServiceDefinition, 'signRecord');
/** registry-svc's DHT rpcs, sent to a peer by gateway-svc. */
export const GatewayDhtPing = rpc('swarm.v1.gateway.dht-ping', GatewayServiceDefinition, 'dhtPing');
export const GatewayDhtStore = rpc('swarm.v1.gateway.dht-store', GatewayServiceDefinition, 'dhtStore');
export const GatewayDhtFindNode = rpc('swarm.v1.gateway.dht-find-node', GatewayServiceDefinition, 'dhtFindNode');
export const GatewayDhtFindValue = rpc('swarm.v1.gateway.dht-find-value', GatewayServiceDefinition, 'dhtFindValue');
/** router-svc's task for a remote provider. */
export const GatewayExecute = rpc('swarm.v1.gateway.execute', GatewayServiceDefinition, 'execute');
/** credit-svc's receipts (up to 64) for one payee on another node: delivered there in one call, each answered countersigned or refused. */
export const GatewayDeliverReceipts = rpc('swarm.v1.gateway.deliver-receipts', GatewayServiceDefinition, 'deliverReceipts');
/** credit-svc's voids of receipts refused for good, to their payee (docs/chain.md "Voids"). */
export const GatewayVoidReceipts = rpc('swarm.v1.gateway.void-receipts', GatewayServiceDefinition, 'voidReceipts');
/** A page of a peer's chain, for operators auditing it (`swarm ledger --audit --peer`). */
export const GatewayFetchChain = rpc('swarm.v1.gateway.fetch-chain', GatewayServiceDefinition, 'fetchChain');
/** credit-svc's blocks of its own chain for a payee that could not read them (docs/chain.md "Payers behind NAT"). */
export const GatewayOfferChain = rpc('swarm.v1.gateway.offer-chain', GatewayServiceDefinition, 'offerChain');

/** The operator's agent commands (`swarm agent`), answered by api-svc. */
export const ApiAddAgent = rpc('swarm.v1.api.agent-add', ApiServiceDefinition, 'addAgent');
export const ApiListAgents = rpc('swarm.v1.api.agent-list', ApiServiceDefinition, 'listAgents');
export const ApiRevokeAgent = rpc('swarm.v1.api.agent-revoke', ApiServiceDefinition, 'revokeAgent');
export const ApiHealth = rpc('swarm.v1.api.health', ApiServiceDefinition, 'health');

export const HEALTH_BY_SERVICE: Readonly<Record<ServiceName, Rpc<HealthRequest, HealthResponse>>> = Object.freeze({
  router: RouterHealth,
  credit: CreditHealth,
  executor: ExecutorHealth,
  registry: RegistryHealth,
  gateway: GatewayHealth,
  api: ApiHealth,
});

export const TaskFinishedEvents = event('swarm.v1.events.task.finished', TaskFinished);
export const LedgerEntryEvents = event('swarm.v1.events.ledger.entry', LedgerEntry);

/** Every request/reply subject, for tests that probe each one with bad input. */
export const ALL_RPCS: ReadonlyArray<Rpc<unknown, unknown>> = [
  RouterSubmit,
  RouterHealth,
  RouterTask,
  RouterSubmitAgent,
  RouterTaskAgent,
  RouterReportFork,
  RouterReportVoidBreach,
  RouterTrust,
  CreditReserve,
  CreditSettle,
  CreditRefund,
  CreditCharge,
  CreditBalance,
  CreditHealth,
  CreditAudit,
  CreditEscrow,
  CreditFundAgent,
  CreditDefundAgent,
  CreditStanding,
  CreditAcceptReceipt,
  CreditAcceptVoid,
  CreditChainBlocks,
  CreditAcceptChainOffer,
  CreditPaidVoids,
  CreditReinstateVoided,
  ExecutorExecute,
  ExecutorSkills,
  ExecutorHealth,
  RegistryFindProviders,
  RegistryHealth,
  RegistryPeers,
  RegistryDhtPing,
  RegistryDhtStore,
  RegistryDhtFindNode,
  RegistryDhtFindValue,
  RegistryNodeRecord,
  RegistryPublishChainSighting,
  RegistryFindChainSightings,
  GatewayPeers,
  GatewayHealth,
  GatewayNodeInfo,
  GatewaySignRecord,
  GatewayDhtPing,
  GatewayDhtStore,
  GatewayDhtFindNode,
  GatewayDhtFindValue,
  GatewayExecute,
  GatewayDeliverReceipts,
  GatewayVoidReceipts,
  GatewayFetchChain,
  GatewayOfferChain,
  ApiAddAgent,
  ApiListAgents,
  ApiRevokeAgent,
  ApiHealth,
] as ReadonlyArray<Rpc<unknown, unknown>>;

/** The proto services whose rpcs the subjects above carry (for the gateway and the table's test). */
export const ALL_SERVICE_DEFINITIONS: readonly ServiceDefinition[] = [
  RouterServiceDefinition,
  CreditServiceDefinition,
  ExecutorServiceDefinition,
  RegistryServiceDefinition,
  GatewayServiceDefinition,
  ApiServiceDefinition,
];
