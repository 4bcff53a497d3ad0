/**
 * For the ledger relay's tests (ledger-relay.int.spec.ts, void-relay.int.spec.ts): nodes of their
 * own (nats-server, data dir, a real gateway-svc), a stand-in registry-svc that knows peers'
 * addresses, a stand-in credit-svc keeping a real chain that countersigns receipts and voids, and
 * receipts signed as credit-svc signs them.
 */
import type { BusClient, BusService } from '@swarm/bus';
import { createBusClient, fromWire, startBusService } from '@swarm/bus';
import type { ChainHead } from '@swarm/chain';
import { appendReceipt, countersignReceipt, countersignVoid, createGenesis, DEFAULT_CHAIN_RULES, makeReceipt, ReceiptRefusal, verifyReceipt, verifyVoid } from '@swarm/chain';
import type {
  AcceptReceiptRequest,
  AcceptReceiptResponse,
  AcceptVoidRequest,
  AcceptVoidResponse,
  AcceptChainOfferRequest,
  ChainBlocksRequest,
  ReceiptOutcome,
  SignedReceipt,
  SignedVoid,
} from '@swarm/contracts';
import { CreditAcceptChainOffer, CreditAcceptReceipt, CreditAcceptVoid, CreditChainBlocks, RegistryNodeRecord } from '@swarm/contracts';
import { systemTime } from '@swarm/determinism';
import type { NodeIdentity } from '@swarm/identity';
import { loadOrCreateIdentity } from '@swarm/identity';
import { createServeTickets } from '@swarm/records';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle } from '@swarm/runtime';
import { startNatsServer } from '@swarm/runtime';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadGatewayConfig } from '../config';
import type { GatewayServiceHandle } from '../service';
import { startGatewayService } from '../service';

/** A fresh data dir (the dependency rules let only *.spec.ts files use @swarm/testing's). */
async function tempDir(prefix: string): Promise<{ readonly path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Low, so a fresh node finds its proof of work at once. */
const POW_DIFFICULTY = 8;
export const REQUEST_TIMEOUT_MS = 15_000;

export interface Node {
  readonly nc: NatsConnection;
  readonly bus: BusClient;
  readonly identity: NodeIdentity;
  readonly nodeId: string;
  gateway: GatewayServiceHandle;
  /** Stops this node's gateway-svc and starts it again from the same data dir (on a new port). */
  restartGateway(): Promise<void>;
  stop(): Promise<void>;
}

/** A node of its own: nats-server, data dir and gateway-svc. */
export async function startNode(): Promise<Node> {
  const nats: NatsServerHandle = await startNatsServer();
  const home = await tempDir('swarm-gwledger-');
  const nc = await connect({ servers: nats.url });
  const config = loadGatewayConfig({ SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: home.path, SWARM_POW_DIFFICULTY: String(POW_DIFFICULTY) });
  const start = () => startGatewayService({ config, log: silentLogger(), nc, time: systemTime });
  const gateway = await start();
  const identity = await loadOrCreateIdentity(home.path);
  const node: Node = {
    nc,
    bus: createBusClient(nc, silentLogger()),
    identity,
    nodeId: gateway.nodeId,
    gateway,
    async restartGateway() {
      await node.gateway.stop();
      node.gateway = await start();
    },
    async stop() {
      await node.gateway.stop();
      await nc.close();
      await nats.stop();
      await home.remove();
    },
  };
  return node;
}

/** A stand-in registry-svc answering FindNodeRecord from `addresses`: a node not in it has no record. */
export async function startFakeRegistry(node: Node) {
  const addresses = new Map<string, string>();
  const asked: string[] = [];
  const svc: BusService = await startBusService({ nc: node.nc, log: silentLogger(), name: 'registry-svc', version: '0.0.0', description: 'fake registry', nodeId: node.nodeId });
  svc.serve(RegistryNodeRecord, ({ nodeId }) => {
    asked.push(nodeId);
    const address = addresses.get(nodeId);
    return { found: address !== undefined, expiresAtMs: address === undefined ? 0n : BigInt(Date.now() + 60_000), gatewayAddress: address ?? '' };
  });
  await node.nc.flush();
  return { addresses, asked, stop: () => svc.stop(1_000) };
}

export type CreditMode = 'honest' | 'forged-countersignature' | 'not-countersigned' | 'other-chain' | 'big-pages';
/** In mode 'big-pages', each page is as many blocks as asked of this many bytes (not blocks: only the gateways see them). */
export const BIG_PAGE_BLOCK_BYTES = 1_000;
/**
 * How the stand-in credit-svc lies about the void of one task's receipt: a countersignature that
 * does not verify, a void of other bytes, a receipt it countersigned for another task, or no answer
 * at all (neither a void nor a receipt).
 */
export type VoidLie = 'forged-countersignature' | 'other-void' | 'other-receipt' | 'neither';

/**
 * A stand-in credit-svc keeping a real chain: it countersigns a peer's receipt with the node key,
 * appends it once (a retry gets the same answer) and answers pages of that chain. In the other
 * modes it lies: a countersignature that does not verify, none at all, a page of another chain, or
 * pages as big as asked of filler.
 * A void is countersigned unless its receipt was countersigned first (then that receipt is the
 * answer), and a receipt voided is never countersigned; `voidLies` names the tasks whose voids it
 * lies about.
 */
export async function startFakeCredit(node: Node, stranger: NodeIdentity) {
  const state = { mode: 'honest' as CreditMode };
  const accepted: AcceptReceiptRequest[] = [];
  const voided: AcceptVoidRequest[] = [];
  const voidLies = new Map<string, VoidLie>();
  const pages: ChainBlocksRequest[] = [];
  const genesis = createGenesis(node.identity, DEFAULT_CHAIN_RULES, Date.now());
  const blocks: Uint8Array[] = [...genesis.blocks];
  let head: ChainHead = genesis.head;
  const held = new Map<string, SignedReceipt>();
  const voids = new Map<string, SignedVoid>();
  const svc = await startBusService({ nc: node.nc, log: silentLogger(), name: 'credit-svc', version: '0.0.0', description: 'fake credit', nodeId: node.nodeId });
  svc.serve(CreditAcceptReceipt, (req): AcceptReceiptResponse => {
    accepted.push(req);
    const receipt = req.receipt as SignedReceipt;
    if (state.mode === 'not-countersigned') return { receipt, alreadyHeld: false };
    // Signed by another key under this node's name: the countersignature does not verify.
    if (state.mode === 'forged-countersignature')
      return { receipt: countersignReceipt(receipt, { publicKey: node.identity.publicKey, sign: (data) => stranger.sign(data) }), alreadyHeld: false };
    const countersigned = countersignReceipt(receipt, node.identity);
    const { receiptId } = verifyReceipt(countersigned, { expectedPayer: req.fromNodeId });
    if (voids.has(receiptId)) throw new ReceiptRefusal('voided', `${receiptId.slice(0, 80)} was voided`);
    const known = held.get(receiptId);
    if (known) return { receipt: known, alreadyHeld: true };
    const appended = appendReceipt(head, countersigned, node.identity, DEFAULT_CHAIN_RULES, { atMs: Date.now(), hasReceipt: (id) => held.has(id) });
    blocks.push(...appended.blocks);
    head = appended.head;
    held.set(receiptId, countersigned);
    return { receipt: countersigned, alreadyHeld: false };
  });
  svc.serve(CreditAcceptVoid, (req): AcceptVoidResponse => {
    voided.push(req);
    const signed = req.signedVoid as SignedVoid;
    const countersigned = countersignVoid(signed, node.identity);
    const { receiptId, taskId } = verifyVoid(countersigned, { expectedPayer: req.fromNodeId });
    const lie = voidLies.get(taskId);
    if (lie === 'forged-countersignature')
      return { signedVoid: countersignVoid(signed, { publicKey: node.identity.publicKey, sign: (data) => stranger.sign(data) }), receiptAppended: false };
    if (lie === 'other-void') return { signedVoid: { ...countersigned, receipt: Uint8Array.of(...signed.receipt, 0) }, receiptAppended: false };
    if (lie === 'other-receipt') return { receipt: [...held.values()][0], receiptAppended: false };
    if (lie === 'neither') return { receiptAppended: false };
    const known = held.get(receiptId);
    if (known) return { receipt: known, receiptAppended: false };
    voids.set(receiptId, countersigned);
    return { signedVoid: countersigned, receiptAppended: false };
  });
  // Offers of a payer's chain: recorded, and answered as a payee that read up to the offer's last block.
  const offers: AcceptChainOfferRequest[] = [];
  svc.serve(CreditAcceptChainOffer, (req) => {
    offers.push(req);
    return { wantedFromSeq: (req.offer?.fromSeq ?? 0n) + BigInt(req.offer?.blocks.length ?? 0) };
  });
  svc.serve(CreditChainBlocks, (req) => {
    pages.push(req);
    const from = Math.max(1, Number(req.fromSeq));
    const nodeId = state.mode === 'other-chain' ? stranger.nodeId : node.nodeId;
    if (state.mode === 'big-pages') return { blocks: Array.from({ length: req.limit }, () => new Uint8Array(BIG_PAGE_BLOCK_BYTES)), headSeq: 1_000_000n, nodeId };
    return { blocks: blocks.slice(from - 1, from - 1 + req.limit), headSeq: BigInt(blocks.length), nodeId };
  });
  await node.nc.flush();
  let stopped: Promise<void> | undefined;
  return { state, accepted, voided, voidLies, pages, offers, blocks, stop: () => (stopped ??= svc.stop(1_000)) };
}

export type LedgerPair = Awaited<ReturnType<typeof startLedgerPair>>;

/**
 * Nodes A and B: A's registry knows B's address, B's ledger is a stand-in (startFakeCredit), and a
 * stranger has a key (and a data dir for its certificate) but no node: no registry knows it.
 */
export async function startLedgerPair() {
  const [a, b, strangerDir] = await Promise.all([startNode(), startNode(), tempDir('swarm-gwledger-stranger-')]);
  const stranger = await loadOrCreateIdentity(strangerDir.path);
  const registryA = await startFakeRegistry(a);
  registryA.addresses.set(b.nodeId, b.gateway.advertisedAddress);
  const creditB = await startFakeCredit(b, stranger);
  return {
    a,
    b,
    strangerDir,
    stranger,
    registryA,
    creditB,
    async stop() {
      await registryA.stop();
      await creditB.stop();
      await Promise.all([a.stop(), b.stop(), strangerDir.remove()]);
    },
  };
}

/** The outcome's countersigned receipt, or its error thrown as the SwarmError it stands for. */
export function countersignedOf(outcome: ReceiptOutcome): SignedReceipt {
  if (outcome.error !== undefined) throw fromWire(outcome.error);
  if (outcome.receipt === undefined) throw new Error('an outcome with neither a receipt nor an error');
  return outcome.receipt;
}

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest());

/**
 * A receipt `payer` signs for `payee`, not yet countersigned, with the serve ticket `payee`'s gateway
 * gave `payer` with the task's result (as if it had served it, for a task worth the amount), unless
 * the test names another.
 */
export function receiptOf(
  payer: NodeIdentity,
  payee: NodeIdentity,
  taskId: string,
  amount = 40n,
  serveTicket = createServeTickets(payee).mint(payer.nodeId, taskId, amount),
): SignedReceipt {
  return makeReceipt(
    { payeePublicKey: payee.publicKey, amount, taskId, taskHash: sha256(`in ${taskId}`), resultHash: sha256(`out ${taskId}`), atMs: Date.now(), serveTicket },
    payer,
  );
}
