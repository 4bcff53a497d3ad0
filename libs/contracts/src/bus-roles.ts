/**
 * Who may do what on a node's bus. nats-server enforces this table (one NKey identity per role,
 * see libs/runtime's nats-auth): being able to reach the bus grants nothing by itself.
 *
 * Rules of the table:
 * - A service subscribes only to its own subjects (and its own `$SRV` discovery subjects), so no
 *   other identity can answer for it: only router-svc answers `router.submit`, only executor-svc
 *   takes `executor.execute` (and only in the executor queue group), only registry-svc answers
 *   `registry.*`.
 * - Publish rights are the requests a role must make, and a service's replies: it may publish to
 *   the inboxes of the roles that may ask it something (`replies`, derived from the table), and to
 *   no other reply subject a requester names. Not nats-server's `allow_responses`: that one keeps
 *   every reply subject it delivered until answered as often as allowed, or for minutes, and past
 *   4,096 kept walks them all at each request delivered (nats-server's client.go
 *   pruneReplyPerms). An executor, allowed two answers (an acknowledgement and the result) and
 *   mostly sending one, kept every request of the last 3 minutes: a node's sustained rate fell from
 *   1,400 to 400 tasks/s within a minute; a request never answered was kept as long.
 * - Each role receives replies on its own inbox prefix, so no identity can read another's replies.
 * - Clients (CLI, SDK, agents) may submit and read (balance, skills, health, task status) and
 *   nothing else: no credit movement, no executor or registry subjects, no events, no `$SRV`.
 *   Every holder of the client key shares one identity (and so each other's replies): per-agent
 *   identities come with agent accounts.
 * - Only registry-svc may have the gateway sign a record or send DHT rpcs to peers; only gateway-svc
 *   relays peers' DHT rpcs to registry-svc, asks it whether a submitting peer has a valid record,
 *   and runs peers' tasks on the executors; only router-svc sends tasks to remote providers.
 * - Agents never reach the bus: api-svc authenticates their tokens and alone may submit for an
 *   agent's account (`router.submit-agent`, `router.task-agent`) and move credit between the node's
 *   account and its agents' (`credit.fund-agent`, `credit.defund-agent`); the operator (observer)
 *   creates, lists and revokes agents through api-svc.
 * - Ledger and task events, and the ledger audit, are for the `observer` role only (operators'
 *   tools: `swarm ledger --audit`), as are pages of the node's chain and of peers' chains, and of
 *   the voids its payees countersigned.
 * - Only credit-svc sends receipts and their voids to other nodes (`gateway.deliver-receipts`,
 *   `gateway.void-receipts`); only gateway-svc hands peers' receipts and voids to credit-svc
 *   (`credit.accept-receipt`, `credit.accept-void`, with the peer it authenticated) and asks it for
 *   chain pages on a peer's behalf (docs/chain.md).
 * - `probe` asks health and nothing else: docker-compose's container healthchecks use it, so each
 *   service container holds its own key and this one, never the observer's (which sees the ledger).
 */
import type { ServiceName } from './subjects';
import {
  ApiAddAgent,
  ApiListAgents,
  ApiRevokeAgent,
  CreditAcceptReceipt,
  CreditAcceptVoid,
  CreditAudit,
  CreditBalance,
  CreditChainBlocks,
  CreditAcceptChainOffer,
  CreditCharge,
  CreditPaidVoids,
  CreditReinstateVoided,
  CreditDefundAgent,
  CreditEscrow,
  CreditFundAgent,
  CreditRefund,
  CreditReserve,
  CreditSettle,
  CreditStanding,
  EXECUTOR_QUEUE,
  ExecutorExecute,
  ExecutorSkills,
  GatewayDeliverReceipts,
  GatewayVoidReceipts,
  GatewayOfferChain,
  GatewayDhtFindNode,
  GatewayDhtFindValue,
  GatewayDhtPing,
  GatewayDhtStore,
  GatewayExecute,
  GatewayFetchChain,
  GatewayNodeInfo,
  GatewaySignRecord,
  HEALTH_BY_SERVICE,
  LedgerEntryEvents,
  RegistryDhtFindNode,
  RegistryDhtFindValue,
  RegistryDhtPing,
  RegistryDhtStore,
  RegistryFindChainSightings,
  RegistryFindProviders,
  RegistryNodeRecord,
  RegistryPeers,
  RegistryPublishChainSighting,
  RouterSubmit,
  RouterSubmitAgent,
  RouterTask,
  RouterReportFork,
  RouterReportVoidBreach,
  RouterTaskAgent,
  RouterTrust,
  TaskFinishedEvents,
} from './subjects';

export const SERVICE_ROLES = ['credit', 'registry', 'gateway', 'executor', 'router', 'api'] as const satisfies readonly ServiceName[];
export const BUS_ROLES = [...SERVICE_ROLES, 'client', 'observer', 'probe'] as const;
export type BusRole = (typeof BUS_ROLES)[number];

export interface BusPermissions {
  /** Requests and events it may publish. */
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /**
   * Where it may answer: `<inbox prefix>.>` of every role that may publish to a subject it
   * subscribes to (an executor's acknowledgement and its result go there too). Empty: it answers nothing.
   */
  readonly replies: readonly string[];
}

/** The table as written below, before `replies` are derived from it. */
type Rights = Omit<BusPermissions, 'replies'>;

/** Replies to a role arrive under this prefix (nats.js `inboxPrefix`). */
export function inboxPrefixOf(role: BusRole): string {
  return `_INBOX_${role}`;
}

/** Every inbox prefix starts so; a responder answers only reply subjects that do (see bus-service). */
export const INBOX_ROOT = '_INBOX';

/** The services framework's discovery subjects a service named `<service>-svc` listens on. */
function discoverySubjects(service: ServiceName): string[] {
  const name = `${service}-svc`;
  return ['$SRV.PING', '$SRV.INFO', '$SRV.STATS', `$SRV.*.${name}`, `$SRV.*.${name}.*`];
}

const ALL_HEALTH = Object.values(HEALTH_BY_SERVICE).map((rpc) => rpc.subject);
/** Read-only service discovery (ping, info, stats of any service). */
const DISCOVERY_REQUESTS = ['$SRV.PING.>', '$SRV.INFO.>', '$SRV.STATS.>'];

function service(name: ServiceName, publish: string[], serves: string[], makesRequests: boolean): Rights {
  return {
    publish,
    subscribe: [...serves, ...discoverySubjects(name), ...(makesRequests ? [`${inboxPrefixOf(name)}.>`] : [])],
  };
}

const RIGHTS: Readonly<Record<BusRole, Rights>> = {
  // Receipts for payees on other nodes leave through the gateway (docs/chain.md); the watch over
  // payees that countersigned voids reads their chains and proves a broken void to the router, and
  // a payer's chain that forked is proven to it too.
  credit: service(
    'credit',
    [
      LedgerEntryEvents.subject,
      GatewayDeliverReceipts.subject,
      GatewayVoidReceipts.subject,
      GatewayOfferChain.subject,
      GatewayFetchChain.subject,
      RouterReportVoidBreach.subject,
      RouterReportFork.subject,
      // Its sightings of payers' chains, and other payees' (docs/chain.md "Sightings").
      RegistryPublishChainSighting.subject,
      RegistryFindChainSightings.subject,
    ],
    ['swarm.v1.credit.>'],
    true,
  ),
  registry: service(
    'registry',
    [
      ExecutorSkills.subject,
      GatewayNodeInfo.subject,
      GatewaySignRecord.subject,
      GatewayDhtPing.subject,
      GatewayDhtStore.subject,
      GatewayDhtFindNode.subject,
      GatewayDhtFindValue.subject,
    ],
    ['swarm.v1.registry.>'],
    true,
  ),
  gateway: service(
    'gateway',
    [
      RegistryDhtPing.subject,
      RegistryDhtStore.subject,
      RegistryDhtFindNode.subject,
      RegistryDhtFindValue.subject,
      // Whether a peer submitting a task has a valid record (the registry holds the DHT).
      RegistryNodeRecord.subject,
      ExecutorExecute.subject,
      ExecutorSkills.subject,
      // A submitting peer's standing, to rank its task when peers' tasks fill this node (docs/priority.md).
      CreditStanding.subject,
      // Peers' receipts to countersign, and pages of this node's chain for peers auditing it.
      CreditAcceptReceipt.subject,
      CreditAcceptVoid.subject,
      CreditChainBlocks.subject,
      // Blocks a paying peer behind NAT offers of its own chain.
      CreditAcceptChainOffer.subject,
    ],
    ['swarm.v1.gateway.>'],
    true,
  ),
  executor: service(
    'executor',
    [],
    [`${ExecutorExecute.subject} ${EXECUTOR_QUEUE}`, `${ExecutorSkills.subject} ${EXECUTOR_QUEUE}`, `${HEALTH_BY_SERVICE.executor.subject} ${EXECUTOR_QUEUE}`],
    false,
  ),
  router: service(
    'router',
    [
      CreditReserve.subject,
      CreditSettle.subject,
      CreditRefund.subject,
      CreditCharge.subject,
      CreditEscrow.subject,
      RegistryFindProviders.subject,
      ExecutorExecute.subject,
      GatewayExecute.subject,
      TaskFinishedEvents.subject,
    ],
    ['swarm.v1.router.>'],
    true,
  ),
  api: service(
    'api',
    [RouterSubmitAgent.subject, RouterTaskAgent.subject, CreditFundAgent.subject, CreditDefundAgent.subject, CreditBalance.subject, ExecutorSkills.subject, RegistryPeers.subject],
    ['swarm.v1.api.>'],
    true,
  ),
  client: {
    // No `$SRV` discovery: what each service is and how busy is for operators.
    publish: [RouterSubmit.subject, RouterTask.subject, CreditBalance.subject, ExecutorSkills.subject, RegistryPeers.subject, ...ALL_HEALTH],
    subscribe: [`${inboxPrefixOf('client')}.>`],
  },
  observer: {
    publish: [
      CreditBalance.subject,
      CreditAudit.subject,
      CreditEscrow.subject,
      CreditChainBlocks.subject,
      CreditPaidVoids.subject,
      CreditReinstateVoided.subject,
      GatewayFetchChain.subject,
      // The peers this node knows: `swarm ledger --peer` takes the first characters of one's id.
      RegistryPeers.subject,
      RouterTask.subject,
      RouterReportFork.subject,
      RouterReportVoidBreach.subject,
      RouterTrust.subject,
      ApiAddAgent.subject,
      ApiListAgents.subject,
      ApiRevokeAgent.subject,
      ...ALL_HEALTH,
      ...DISCOVERY_REQUESTS,
    ],
    subscribe: ['swarm.v1.events.>', `${inboxPrefixOf('observer')}.>`],
  },
  probe: {
    publish: [...ALL_HEALTH],
    subscribe: [`${inboxPrefixOf('probe')}.>`],
  },
};

/** Whether one subject matches both NATS subject patterns (`*` one token, `>` one or more at the end). */
export function subjectsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i += 1) {
    if (i === x.length || i === y.length) return x.length === y.length;
    if (x[i] === '>' || y[i] === '>') return true;
    if (x[i] !== '*' && y[i] !== '*' && x[i] !== y[i]) return false;
  }
}

/**
 * The inboxes a service answers: those of the other roles that may publish to what it subscribes to
 * (a queue group's entry is `subject queue`). Only services answer: the observer reads events others
 * publish, and answers nothing.
 */
function repliesOf(role: BusRole): string[] {
  if (!(SERVICE_ROLES as readonly BusRole[]).includes(role)) return [];
  const serves = RIGHTS[role].subscribe.map((entry) => entry.split(' ')[0]);
  return BUS_ROLES.filter((asker) => asker !== role && RIGHTS[asker].publish.some((p) => serves.some((s) => subjectsOverlap(p, s)))).map((asker) => `${inboxPrefixOf(asker)}.>`);
}

export const BUS_PERMISSIONS: Readonly<Record<BusRole, BusPermissions>> = Object.freeze(
  Object.fromEntries(
    BUS_ROLES.map((role) => [
      role,
      Object.freeze({ publish: Object.freeze([...RIGHTS[role].publish]), subscribe: Object.freeze([...RIGHTS[role].subscribe]), replies: Object.freeze(repliesOf(role)) }),
    ]),
  ) as Record<BusRole, BusPermissions>,
);
