/**
 * Serve tickets (docs/chain.md): what a provider hands a requesting node with each result it
 * serves, and later asks back in the receipt that pays it. A ticket names the most a receipt for
 * that task may pay this provider (its cap, from the work done: serveTicketCap) and authenticates
 * it: 8 bytes of cap, then the first 24 bytes of HMAC-SHA256 over a domain tag, the requester's
 * node id, the task id and the cap, under a key only the provider can make: the SHA-256 of its
 * Ed25519 signature of a fixed label (Ed25519 signatures are deterministic, so the key is the same
 * after every restart, needs no storage and never leaves the node key's holder). A provider
 * therefore countersigns a receipt only for a task it served that payer, and for no more than that
 * task can be worth, without keeping a record of what it served; nobody else can make or check a
 * ticket, and 192 bits of MAC leave a forgery out of reach.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RecordSigner } from './create-record';

export const SERVE_TICKET_BYTES = 32;
const CAP_BYTES = 8;
/** Signed once to derive the ticket key; no other signature of the node key covers these bytes. */
const KEY_LABEL = new TextEncoder().encode('swarm-serve-ticket-key-v1');
const TICKET_DOMAIN = 'swarm-serve-v2';
const MAX_CAP = 2n ** 64n - 1n;

/**
 * Prices of the served task a receipt for it may pay: one receipt pays a payee for every row block
 * it ran of a sharded task (at most TASK_MAX_SHARDS, 16, each within twice the rows of the block
 * whose ticket it carries) or its share of a replicated task's pool (at most TASK_MAX_REDUNDANCY, 5,
 * prices). So a payer that pays more than it holds can add at most this many times the price of
 * work the payee really did for it.
 */
export const SERVE_TICKET_PRICE_FACTOR = 32n;

/** The cap a provider puts in the ticket of a task it ran, from that task's price. */
export function serveTicketCap(price: bigint): bigint {
  const cap = price * SERVE_TICKET_PRICE_FACTOR;
  return cap > MAX_CAP ? MAX_CAP : cap;
}

export interface ServeTickets {
  /** The ticket for serving `taskId` to `requester` (a node id), paid at most `cap` credits. */
  mint(requester: string, taskId: string, cap: bigint): Uint8Array;
  /** The cap of `ticket` when it is one this node minted for `requester` and `taskId` (constant time); undefined otherwise. */
  capOf(requester: string, taskId: string, ticket: Uint8Array): bigint | undefined;
  /** Whether `ticket` is one this node minted for `requester` and `taskId`. */
  holds(requester: string, taskId: string, ticket: Uint8Array): boolean;
}

export function createServeTickets(signer: Pick<RecordSigner, 'sign'>): ServeTickets {
  const key = createHash('sha256').update(signer.sign(KEY_LABEL)).digest();
  const mint = (requester: string, taskId: string, cap: bigint): Uint8Array => {
    if (cap < 0n || cap > MAX_CAP) throw new RangeError(`a serve ticket's cap is a uint64, got ${cap}`);
    const ticket = new Uint8Array(SERVE_TICKET_BYTES);
    new DataView(ticket.buffer).setBigUint64(0, cap);
    // NUL separates the fields: node ids are hex, task ids printable and the cap decimal, so no two sets collide.
    const mac = createHmac('sha256', key).update(`${TICKET_DOMAIN}\0${requester}\0${taskId}\0${cap}`).digest();
    ticket.set(mac.subarray(0, SERVE_TICKET_BYTES - CAP_BYTES), CAP_BYTES);
    return ticket;
  };
  const capOf = (requester: string, taskId: string, ticket: Uint8Array): bigint | undefined => {
    if (ticket.length !== SERVE_TICKET_BYTES) return undefined;
    const cap = new DataView(ticket.buffer, ticket.byteOffset, CAP_BYTES).getBigUint64(0);
    return timingSafeEqual(mint(requester, taskId, cap), ticket) ? cap : undefined;
  };
  return { mint, capOf, holds: (requester, taskId, ticket) => capOf(requester, taskId, ticket) !== undefined };
}
