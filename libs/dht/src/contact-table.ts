/**
 * kademlia-dht's RoutingTable with Kademlia's eviction rule (§2.2) restored. When a full bucket
 * meets a new contact, the package's Dht pings the bucket's oldest contact but compares the answer
 * with the *new* contact's id, so a live long-lived contact is always evicted — the opposite of
 * Kademlia, which keeps long-lived contacts (they are the likeliest to stay up, and an attacker
 * cannot flush them with fresh ids). Here the oldest stays if it answers with its own id; only then
 * is the newcomer dropped. While its ping is out, the latest newcomer for that bucket waits as the
 * replacement instead of being lost.
 */
import Contact from 'kademlia-dht/lib/contact';
import type Id from 'kademlia-dht/lib/id';
import RoutingTable from 'kademlia-dht/lib/routing-table';

/** Resolves true when the contact answered a ping with its own id. */
export type ProbeContact = (contact: Contact) => Promise<boolean>;

export interface ContactTable {
  readonly selfId: Id;
  /** A contact was heard from (it answered, or it sent a request). */
  seen(contact: Contact): void;
  /** A contact failed to answer: forget it. */
  failed(contact: Contact): void;
  /** The `count` known contacts closest to `target`, closest first. */
  closest(target: Id, count: number): Contact[];
}

export function createContactTable(selfId: Id, bucketSize: number, probe: ProbeContact): ContactTable {
  const routes = new RoutingTable(selfId, bucketSize);
  /** Oldest contacts being probed (hex id) -> the newcomer waiting for the slot. */
  const probing = new Map<string, Contact>();

  function seen(contact: Contact): void {
    const oldest = routes.store(contact);
    if (!oldest) return;
    const oldestHex = oldest.id.toString();
    const waiting = probing.has(oldestHex);
    probing.set(oldestHex, contact);
    if (waiting) return;
    void probe(oldest).then(
      (alive) => settle(oldest, alive),
      () => settle(oldest, false),
    );
  }

  function settle(oldest: Contact, alive: boolean): void {
    const newcomer = probing.get(oldest.id.toString());
    probing.delete(oldest.id.toString());
    if (alive) {
      routes.store(oldest); // moves it to the bucket's tail: most recently seen
      return;
    }
    routes.remove(oldest);
    if (newcomer) routes.store(newcomer);
  }

  return {
    selfId,
    seen,
    failed: (contact) => routes.remove(contact),
    closest: (target, count) => routes.find(target, count),
  };
}

export { Contact };
