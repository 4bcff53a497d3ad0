/**
 * Serve tickets (docs/chain.md): what a provider hands a requesting node with each result it
 * serves, and later asks back in the receipt that pays it. A ticket is HMAC-SHA256 over a domain
 * tag, the requester's node id and the task id, under a key only the provider can make: the SHA-256
 * of its Ed25519 signature of a fixed label (Ed25519 signatures are deterministic, so the key is
 * the same after every restart, needs no storage and never leaves the node key's holder). A
 * provider therefore countersigns a receipt only for a task it served that payer, without keeping a
 * record of what it served; nobody else can make or check a ticket.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RecordSigner } from './create-record';

export const SERVE_TICKET_BYTES = 32;
/** Signed once to derive the ticket key; no other signature of the node key covers these bytes. */
const KEY_LABEL = new TextEncoder().encode('swarm-serve-ticket-key-v1');
const TICKET_DOMAIN = 'swarm-serve-v1';

export interface ServeTickets {
  /** The ticket for serving `taskId` to `requester` (a node id). */
  mint(requester: string, taskId: string): Uint8Array;
  /** Whether `ticket` is the one this node mints for `requester` and `taskId` (constant time). */
  holds(requester: string, taskId: string, ticket: Uint8Array): boolean;
}

export function createServeTickets(signer: Pick<RecordSigner, 'sign'>): ServeTickets {
  const key = createHash('sha256').update(signer.sign(KEY_LABEL)).digest();
  // NUL separates the fields: node ids are hex and task ids printable, so no two pairs collide.
  const mint = (requester: string, taskId: string) => new Uint8Array(createHmac('sha256', key).update(`${TICKET_DOMAIN}\0${requester}\0${taskId}`).digest());
  return {
    mint,
    holds(requester, taskId, ticket) {
      return ticket.length === SERVE_TICKET_BYTES && timingSafeEqual(mint(requester, taskId), ticket);
    },
  };
}
