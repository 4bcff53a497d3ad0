/** Node-wide limits every service agrees on; each is named once here. */

/** The node bus's largest message (its nats-server max_payload; tools/compose/nats.conf too). */
export const BUS_MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;
/**
 * Largest element count of a task's inputs together and of each output: 2M f32 values are 8 MB,
 * so the largest output still fits one bus message with room for framing.
 */
export const TASK_MAX_ELEMENTS = 2_000_000;
/** Most inputs a task may carry (every skill takes far fewer; SubmitTaskRequest.inputs). */
export const TASK_MAX_INPUTS = 16;
/** Most dimensions an input's shape may have. */
export const TASK_MAX_RANK = 8;
/** Longest deadline a task may ask for. */
export const TASK_MAX_TIMEOUT_MS = 120_000;
/** Deadline of a task that names none. */
export const TASK_DEFAULT_TIMEOUT_MS = 30_000;
/**
 * Most different providers one task may ask to run it (SubmitTaskRequest.redundancy): the replica
 * game of its payout stays exact and cheap (2^K coalitions).
 */
export const TASK_MAX_REDUNDANCY = 5;
/**
 * Most row blocks one sharded matmul may ask for (SubmitTaskRequest.shards): one escrow pays at
 * most 16 payees (credit.proto ReserveRequest.payees), so at most one node per block.
 */
export const TASK_MAX_SHARDS = 16;
/**
 * Most receipts (or voids) one delivery carries to one payee (GatewayDeliverReceipts, PeerService
 * DeliverReceipts, and their VoidReceipts): 64 signed receipts are at most ~530 KB, far inside a
 * peer call and a bus message.
 */
export const RECEIPTS_PER_DELIVERY = 64;
/** Most blocks one page of a chain holds (ChainBlocksRequest.limit, credit-svc and both gateways). */
export const CHAIN_PAGE_MAX_BLOCKS = 1_000;
/**
 * Most blocks one ChainOffer holds: a page the payee audits in one go (each block up to three
 * signature checks, 150-400 µs) holds its event loop at most ~13 ms.
 */
export const CHAIN_OFFER_MAX_BLOCKS = 32;
/** Most bytes of blocks one page holds (a block is at most ~9 KiB; a receipt block ~1.1 KB): credit-svc stops a page before it. */
export const CHAIN_PAGE_MAX_BYTES = 1 << 20;

/** A ChainBlocksRequest.limit as the contract reads it: 0 (unset) and anything above the most mean the most. */
export function chainPageLimit(limit: number): number {
  return limit < 1 || limit > CHAIN_PAGE_MAX_BLOCKS ? CHAIN_PAGE_MAX_BLOCKS : limit;
}
