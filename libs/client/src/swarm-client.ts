/**
 * A small client for a running node (the CLI is a thin layer on it): an agent or program can
 * submit tasks and read balances and skills without a shell. One NATS connection per client.
 */
import { busConnectOptions, createBusClient } from '@swarm/bus';
import type {
  AddAgentResponse,
  AuditResponse,
  BalanceResponse,
  BusRole,
  ChainBlocksResponse,
  PaidVoidsResponse,
  ForkProof,
  VoidBreachProof,
  HealthResponse,
  ListAgentsResponse,
  ListPeersResponse,
  ListSkillsResponse,
  ReportForkResponse,
  ReportVoidBreachResponse,
  ReinstateVoidedResponse,
  RevokeAgentResponse,
  ServiceName,
  SubmitTaskResponse,
  TaskStatusResponse,
  TrustResponse,
} from '@swarm/contracts';
import {
  ApiAddAgent,
  ApiListAgents,
  ApiRevokeAgent,
  CreditAudit,
  CreditChainBlocks,
  CreditPaidVoids,
  CreditReinstateVoided,
  ErrorCode,
  CreditBalance,
  ExecutorSkills,
  GatewayFetchChain,
  HEALTH_BY_SERVICE,
  RegistryPeers,
  RouterReportFork,
  RouterReportVoidBreach,
  RouterSubmit,
  RouterTask,
  RouterTrust,
  SubmitTaskRequest,
  SwarmError,
  TASK_DEFAULT_TIMEOUT_MS,
} from '@swarm/contracts';
import type { Logger } from '@swarm/telemetry';
import { silentLogger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { connect, ErrorCode as NatsErrorCode, RequestStrategy } from 'nats';

/**
 * The NATS handshake's limit. A node that is down refuses at once (ECONNREFUSED); only a node too
 * loaded to answer waits this long, and on a busy 2-core machine 3 s was not always enough.
 */
export const CONNECT_TIMEOUT_MS = 10_000;
/** How long `instances` collects $SRV.PING answers on loopback. */
export const PING_WAIT_MS = 300;
/** Router time limits the task; the request waits a little longer so its error can arrive. */
const SUBMIT_REPLY_SLACK_MS = 2_000;
export const DEFAULT_SUBMIT_TIMEOUT_MS = TASK_DEFAULT_TIMEOUT_MS;
/** A status the router no longer holds comes from the ledger, whose request may take up to 5 s. */
export const TASK_STATUS_TIMEOUT_MS = 10_000;
/** An audit replays the whole ledger log; a large ledger takes seconds, not the bus's default 5 s. */
export const AUDIT_TIMEOUT_MS = 60_000;
/** A page of the node's chain is one LevelDB range read on credit-svc. */
export const CHAIN_PAGE_TIMEOUT_MS = 10_000;
/**
 * A page of a peer's chain crosses both gateways: the gateway may try the peer at two addresses
 * (5 s each) after looking up its record.
 */
export const PEER_CHAIN_PAGE_TIMEOUT_MS = 15_000;
/** The router verifies a fork or void breach proof (a few signatures) and writes it to disk before it answers. */
export const REPORT_PROOF_TIMEOUT_MS = 10_000;
/** api-svc answers agent commands after credit-svc's transfers (each up to the bus's 5 s). */
export const AGENT_ADMIN_TIMEOUT_MS = 15_000;

export class NodeUnreachableError extends Error {
  readonly code = 'SWARM_NO_NODE';
}

export interface SwarmClient {
  readonly natsUrl: string;
  submit(req: Partial<SubmitTaskRequest> & Pick<SubmitTaskRequest, 'skill' | 'inputs' | 'budget'>): Promise<SubmitTaskResponse>;
  balance(account?: string): Promise<BalanceResponse>;
  /** credit-svc recomputes every balance and escrow from the ledger log; a bounded summary. */
  audit(timeoutMs?: number): Promise<AuditResponse>;
  /**
   * A page of the node's own chain (observer role): blocks `fromSeq`.. in order, at most `limit`
   * (1..1,000; 0 = 1,000), with its head seq and node id. docs/chain.md.
   */
  chainBlocks(fromSeq: bigint, limit: number): Promise<ChainBlocksResponse>;
  /** The same page of another node's chain, fetched through this node's gateway (observer role). */
  fetchChain(peerNodeId: string, fromSeq: bigint, limit: number): Promise<ChainBlocksResponse>;
  /** A page of the voids this node's payees countersigned, after a receipt id (observer role; docs/chain.md "Voids"). */
  paidVoids(afterReceiptId: string, limit: number): Promise<PaidVoidsResponse>;
  /**
   * Tells the node's router of a fork proof against another node (observer role): once the router
   * has verified it, that node is untrusted there for good and never dispatched to. docs/chain.md.
   */
  reportFork(proof: ForkProof): Promise<ReportForkResponse>;
  /**
   * The same for a void breach proof: a payee that countersigned the void of a receipt it holds in
   * its chain anyway (observer role). docs/chain.md "Voids".
   */
  reportVoidBreach(proof: VoidBreachProof): Promise<ReportVoidBreachResponse>;
  /**
   * Has this node's credit-svc pay a voided receipt after all, its payee having kept it in its chain
   * (observer role): both chains then hold it. docs/chain.md "Voids".
   */
  reinstateVoided(proof: VoidBreachProof): Promise<ReinstateVoidedResponse>;
  /** The router's trust in the nodes it knows, most trusted first (observer role). */
  trust(): Promise<TrustResponse>;
  /** What happened to a task, by its id or the idempotency key it was submitted with. */
  task(query: { taskId?: string; idempotencyKey?: string }): Promise<TaskStatusResponse>;
  skills(): Promise<ListSkillsResponse>;
  /** The peer nodes the node's registry knows on the DHT (`swarm peers`). */
  peers(): Promise<ListPeersResponse>;
  health(service: ServiceName, timeoutMs?: number): Promise<HealthResponse>;
  /** The operator's agent accounts (observer role): create and fund one (its token, shown once), list, revoke. */
  addAgent(req: { name: string; budget: bigint; ttlMs: bigint }): Promise<AddAgentResponse>;
  listAgents(): Promise<ListAgentsResponse>;
  revokeAgent(name: string): Promise<RevokeAgentResponse>;
  /**
   * Instances of a service that answer the NATS services framework's $SRV.PING within `waitMs`
   * (health requests go to one replica of a queue group; this counts them all).
   */
  instances(service: ServiceName, waitMs?: number): Promise<Array<{ id: string; metadata: Record<string, string> }>>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  log?: Logger;
  name?: string;
  /**
   * Seed file of the bus identity to connect as (a node's `<data-dir>/bus/client.nk`); unset for
   * an open bus. A closed bus refuses a connection without a known key.
   */
  nkeyFile?: string;
  /** The role that key belongs to: `client` (submit and read) unless an operator tool says otherwise. */
  role?: BusRole;
}

export class BusAccessError extends Error {
  readonly code = 'SWARM_BUS_DENIED';
}

/** A NATS URL as an error may show it: a user and password in it (nats://user:pass@host) are not. */
export function shownNatsUrl(natsUrl: string): string {
  return natsUrl.replace(/(^|,|\/\/)[^,/@\s]*@/g, '$1…@');
}

export async function connectSwarm(natsUrl: string, opts: ConnectOptions = {}): Promise<SwarmClient> {
  const auth = await busConnectOptions(opts.role ?? 'client', opts.nkeyFile);
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: natsUrl, name: opts.name ?? 'swarm-client', timeout: CONNECT_TIMEOUT_MS, maxReconnectAttempts: 2, ...auth });
  } catch (err) {
    if ((err as { code?: string }).code === 'AUTHORIZATION_VIOLATION') {
      throw new BusAccessError(
        `the node's bus at ${shownNatsUrl(natsUrl)} refused ${opts.nkeyFile ? `the key in ${opts.nkeyFile}` : 'a connection without a key'}; use the client key of that node (<data-dir>/bus/client.nk, --data-dir or SWARM_NATS_NKEY_FILE)`,
        { cause: err },
      );
    }
    throw new NodeUnreachableError(`cannot reach a node's NATS at ${shownNatsUrl(natsUrl)} (${(err as Error).message}); start one with \`swarm up\``, { cause: err });
  }
  const bus = createBusClient(nc, opts.log ?? silentLogger());
  return {
    natsUrl,
    submit(req) {
      // Always send an explicit deadline, so the client never gives up before the router does.
      const full = SubmitTaskRequest.fromPartial({ ...req, timeoutMs: req.timeoutMs || DEFAULT_SUBMIT_TIMEOUT_MS });
      return bus.request(RouterSubmit, full, { timeoutMs: full.timeoutMs + SUBMIT_REPLY_SLACK_MS });
    },
    balance: (account = '') => bus.request(CreditBalance, { account }),
    audit: (timeoutMs = AUDIT_TIMEOUT_MS) => bus.request(CreditAudit, {}, { timeoutMs }),
    chainBlocks: (fromSeq, limit) => bus.request(CreditChainBlocks, { fromSeq, limit }, { timeoutMs: CHAIN_PAGE_TIMEOUT_MS }),
    fetchChain: (peerNodeId, fromSeq, limit) => bus.request(GatewayFetchChain, { peerNodeId, fromSeq, limit }, { timeoutMs: PEER_CHAIN_PAGE_TIMEOUT_MS }),
    paidVoids: (afterReceiptId, limit) => bus.request(CreditPaidVoids, { afterReceiptId, limit }, { timeoutMs: CHAIN_PAGE_TIMEOUT_MS }),
    reportFork: (proof) => bus.request(RouterReportFork, { proof }, { timeoutMs: REPORT_PROOF_TIMEOUT_MS }),
    reportVoidBreach: (proof) => bus.request(RouterReportVoidBreach, { proof }, { timeoutMs: REPORT_PROOF_TIMEOUT_MS }),
    reinstateVoided: (proof) => bus.request(CreditReinstateVoided, { proof }, { timeoutMs: REPORT_PROOF_TIMEOUT_MS }),
    trust: () => bus.request(RouterTrust, {}),
    task: (query) => bus.request(RouterTask, { taskId: query.taskId ?? '', idempotencyKey: query.idempotencyKey ?? '', account: '' }, { timeoutMs: TASK_STATUS_TIMEOUT_MS }),
    skills: () => bus.request(ExecutorSkills, {}),
    peers: () => bus.request(RegistryPeers, {}),
    health: (service, timeoutMs) => bus.request(HEALTH_BY_SERVICE[service], {}, timeoutMs ? { timeoutMs } : {}),
    // Adding waits for the ledger's transfer; listing asks the balance of every agent.
    addAgent: (req) => bus.request(ApiAddAgent, req, { timeoutMs: AGENT_ADMIN_TIMEOUT_MS }),
    listAgents: () => bus.request(ApiListAgents, {}, { timeoutMs: AGENT_ADMIN_TIMEOUT_MS }),
    revokeAgent: (name) => bus.request(ApiRevokeAgent, { name }, { timeoutMs: AGENT_ADMIN_TIMEOUT_MS }),
    async instances(service, waitMs = PING_WAIT_MS) {
      const subject = `$SRV.PING.${service}-svc`;
      const found: Array<{ id: string; metadata: Record<string, string> }> = [];
      try {
        const replies = await nc.requestMany(subject, new Uint8Array(), { strategy: RequestStrategy.Timer, maxWait: waitMs });
        for await (const m of replies) {
          try {
            const ping = JSON.parse(new TextDecoder().decode(m.data)) as { id?: unknown; metadata?: Record<string, string> };
            // Once per instance id: a second answer with one id is no second instance.
            if (typeof ping.id === 'string' && !found.some((f) => f.id === ping.id)) found.push({ id: ping.id, metadata: ping.metadata ?? {} });
          } catch {
            // not a services-framework answer; ignore it
          }
        }
      } catch (err) {
        throw discoveryError(err, subject);
      }
      return found;
    },
    // A connection the node already closed has nothing to drain; rejecting here would replace the
    // error that ended the command with a raw CONNECTION_CLOSED.
    close: () => (nc.isClosed() || nc.isDraining() ? nc.closed().then(() => undefined) : nc.drain()),
  };
}

/** Discovery bypasses the typed bus client, so its NATS errors get the same SwarmError codes here. */
function discoveryError(err: unknown, subject: string): unknown {
  const code = (err as { code?: unknown }).code;
  if (code === NatsErrorCode.PermissionsViolation) {
    return new SwarmError(ErrorCode.ERROR_CODE_PERMISSION_DENIED, `this bus identity may not use ${subject} (discovery is the observer role's)`, undefined, { cause: err });
  }
  if (code === NatsErrorCode.ConnectionClosed || code === NatsErrorCode.ConnectionDraining || code === NatsErrorCode.Disconnect) {
    return new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `NATS connection unavailable for ${subject}`, undefined, { cause: err });
  }
  return err;
}
