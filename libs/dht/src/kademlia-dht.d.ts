// Types for the parts of kademlia-dht 0.1.0 (plain CommonJS, no types of its own) this library uses:
// ids, contacts, the routing table and the lookup; the Dht class only for the tests that show its
// defects. Shapes read from lib/*.js of that version.

declare module 'kademlia-dht/lib/id' {
  /** A 160-bit Kademlia id (the package's size: a SHA-1). */
  class Id {
    constructor(buf: Buffer);
    static readonly SIZE: number;
    static readonly BIT_SIZE: number;
    /** sha1(key). */
    static fromKey(key: string): Id;
    /** >0 when `first` is closer to this id than `second`, <0 when farther, 0 when equal. */
    compareDistance(first: Id, second: Id): number;
    equal(other: Id): boolean;
    /** Bit `i` (0 = most significant). */
    at(i: number): boolean;
    /** Lower-case hex. */
    toString(short?: boolean): string;
  }
  export = Id;
}

declare module 'kademlia-dht/lib/contact' {
  import type Id from 'kademlia-dht/lib/id';
  class Contact {
    constructor(id: Id, endpoint: string);
    readonly id: Id;
    readonly endpoint: string;
  }
  export = Contact;
}

declare module 'kademlia-dht/lib/routing-table' {
  import type Id from 'kademlia-dht/lib/id';
  import type Contact from 'kademlia-dht/lib/contact';
  class RoutingTable {
    constructor(localId: Id, bucketSize: number);
    readonly id: Id;
    /** null when stored or refreshed; the bucket's oldest contact when the bucket is full and may not split. */
    store(contact: Contact): Contact | null;
    remove(contact: Contact): void;
    /** The `count` (default: bucket size) known contacts closest to `id`, closest first. */
    find(id: Id, count?: number): Contact[];
  }
  export = RoutingTable;
}

declare module 'kademlia-dht/lib/lookup' {
  import type Id from 'kademlia-dht/lib/id';
  import type Contact from 'kademlia-dht/lib/contact';
  interface LookupOptions {
    /** How many closest contacts the lookup keeps (k). */
    size: number;
    /** Requests in flight at once (alpha). */
    concurrency: number;
    findNode(contact: Contact, targetId: Id, cb: (err: Error | null, contacts?: Contact[]) => void): void;
  }
  /** Iterative lookup: asks the closest unasked contacts until the `size` closest known all answered or failed. */
  const Lookup: {
    proceed(targetId: Id, seeds: Contact[], opts: LookupOptions, cb: (err: Error | null, contacts: Contact[]) => void): unknown;
  };
  export = Lookup;
}

declare module 'kademlia-dht' {
  import type Id from 'kademlia-dht/lib/id';
  type Callback = (err: Error | null, result?: unknown) => void;
  /** The callback RPC interface the package's Dht drives (FACTS.md). */
  interface PackageRpc {
    ping(endpoint: string, payload: object, cb: Callback): void;
    store(endpoint: string, payload: object, cb: Callback): void;
    findNode(endpoint: string, payload: object, cb: Callback): void;
    findValue(endpoint: string, payload: object, cb: Callback): void;
    receive(name: string, handler: (endpoint: string, payload: never) => unknown): void;
    close(): void;
  }
  interface DhtOptions {
    bucketSize: number;
    concurrency: number;
    expireTime: number;
    refreshTime: number;
    replicateTime: number;
    republishTime: number;
  }
  class Dht {
    constructor(rpc: PackageRpc, id: Id, opts: DhtOptions);
    set(key: string, value: unknown, cb: (err: Error | null) => void): void;
    get(key: string, cb: (err: Error | null, value: unknown) => void): void;
    peek(key: string): unknown;
    close(): void;
  }
}
