/**
 * Each defect of kademlia-dht 0.1.0 that FACTS.md lists, shown twice: on the unwrapped package (the
 * witness: it asserts the defect, so a fixed upstream release shows up here as a failure) and on
 * this library's replacement (the fix).
 */
import { Dht } from 'kademlia-dht';
import type { PackageRpc } from 'kademlia-dht';
import Id from 'kademlia-dht/lib/id';
import { Contact, createContactTable } from './contact-table';
import { createProviderStore, DEFAULT_PROVIDER_STORE_LIMITS } from './provider-store';

const SELF = `00${'00'.repeat(19)}`;
const OLD = `80${'00'.repeat(18)}01`;
const NEW = `80${'00'.repeat(18)}02`;
const idOf = (hex: string) => new Id(Buffer.from(hex, 'hex'));

/** The package's Dht on a scripted RPC: pings answer with `pingAnswer(endpoint)`; nothing else is reachable. */
function rawDht(pingAnswer: (endpoint: string) => string | undefined) {
  const handlers = new Map<string, (endpoint: string, payload: object) => unknown>();
  const unreachable = (_ep: string, _p: object, cb: (err: Error | null) => void) => cb(new Error('unreachable'));
  const rpc: PackageRpc = {
    ping(endpoint, _payload, cb) {
      const answer = pingAnswer(endpoint);
      if (answer) cb(null, { remoteId: idOf(answer) });
      else cb(new Error('timeout'));
    },
    store: unreachable,
    findNode: unreachable,
    findValue: unreachable,
    receive: (name, handler) => void handlers.set(name, handler as (endpoint: string, payload: object) => unknown),
    close: () => undefined,
  };
  const dht = new Dht(rpc, idOf(SELF), { bucketSize: 1, concurrency: 1, expireTime: 1, refreshTime: 1, replicateTime: 1, republishTime: 1 });
  const call = (name: string, endpoint: string, payload: object) => handlers.get(name)?.(endpoint, payload);
  return { dht, call };
}

const ACCEPTED = { provider: 'p', issuedAtMs: 1, expiresAtMs: 10_000 };
const bytes = (text: string) => new TextEncoder().encode(text);

describe('kademlia-dht defects - eviction of a live long-lived contact', () => {
  it('package: evicts the old contact even though it answers its ping', () => {
    const { call } = rawDht((endpoint) => (endpoint === 'old' ? OLD : undefined));
    call('ping', 'old', { id: idOf(OLD) });
    call('ping', 'new', { id: idOf(NEW) });
    const reply = call('findNode', 'me', { id: idOf(SELF), targetId: idOf(OLD) }) as { contacts: Contact[] };
    expect(reply.contacts.map((c) => c.id.toString())).toEqual([NEW]);
  });

  it('contact table: keeps the old contact when it answers, takes the newcomer when it does not', async () => {
    for (const alive of [true, false]) {
      const table = createContactTable(idOf(SELF), 1, async () => alive);
      table.seen(new Contact(idOf(OLD), 'old'));
      table.seen(new Contact(idOf(NEW), 'new'));
      await Promise.resolve();
      await Promise.resolve();
      expect(table.closest(idOf(OLD), 1).map((c) => c.id.toString())).toEqual([alive ? OLD : NEW]);
    }
  });
});

describe('kademlia-dht defects - values in a plain object', () => {
  it("package: a stored key 'hasOwnProperty' breaks every later read, '__proto__' is lost", () => {
    const { dht, call } = rawDht(() => undefined);
    call('store', 'peer', { id: idOf(SELF), key: '__proto__', value: { polluted: true } });
    expect(dht.peek('__proto__')).toBeNull();
    call('store', 'peer', { id: idOf(SELF), key: 'hasOwnProperty', value: 'x' });
    expect(() => dht.peek('anything')).toThrow(TypeError);
  });

  it('provider store: those keys are keys like any other', () => {
    const store = createProviderStore();
    for (const key of ['hasOwnProperty', '__proto__', 'constructor']) expect(store.put(key, bytes(key), ACCEPTED, 0)).toEqual({ stored: true });
    expect(store.values('anything', 0)).toEqual([]);
    expect(store.values('__proto__', 0)).toEqual([bytes('__proto__')]);
    expect(store.values('hasOwnProperty', 0)).toEqual([bytes('hasOwnProperty')]);
  });
});

describe('kademlia-dht defects - any peer overwrites any key', () => {
  it("package: a second peer's store replaces the first's value", () => {
    const { dht, call } = rawDht(() => undefined);
    call('store', 'honest', { id: idOf(SELF), key: 'matmul', value: 'honest-provider' });
    call('store', 'attacker', { id: idOf(SELF), key: 'matmul', value: 'attacker' });
    expect(dht.peek('matmul')).toBe('attacker');
  });

  it('provider store: one record per provider, and an older record never displaces a newer one', () => {
    const store = createProviderStore();
    store.put('matmul', bytes('honest'), { ...ACCEPTED, provider: 'honest' }, 0);
    store.put('matmul', bytes('other'), { ...ACCEPTED, provider: 'other' }, 0);
    expect(store.put('matmul', bytes('replay'), { ...ACCEPTED, provider: 'honest', issuedAtMs: 0 }, 0)).toEqual({
      stored: false,
      refusal: 'a newer record of this provider is held',
    });
    expect(store.values('matmul', 0)).toEqual([bytes('honest'), bytes('other')]);
    expect(store.put('matmul', bytes('honest-v2'), { ...ACCEPTED, provider: 'honest', issuedAtMs: 2 }, 0)).toEqual({ stored: true });
    expect(store.values('matmul', 0)).toEqual([bytes('honest-v2'), bytes('other')]);
  });
});

describe('kademlia-dht defects - falsy values read as missing', () => {
  it('package: a stored 0 reads back as undefined', async () => {
    const { dht, call } = rawDht(() => undefined);
    call('store', 'peer', { id: idOf(SELF), key: 'k', value: 0 });
    await expect(new Promise((resolve) => dht.get('k', (_err, value) => resolve(value)))).resolves.toBeUndefined();
  });

  it('provider store: an empty record reads back as a record', () => {
    const store = createProviderStore();
    store.put('k', new Uint8Array(0), ACCEPTED, 0);
    expect(store.values('k', 0)).toEqual([new Uint8Array(0)]);
  });
});

describe('kademlia-dht defects - no expiry, and a lone node drops its own value', () => {
  afterEach(() => jest.useRealTimers());

  it('package: a value outlives expireTime, and set() on a lone node keeps nothing', async () => {
    jest.useFakeTimers();
    const { dht, call } = rawDht(() => undefined);
    call('store', 'peer', { id: idOf(SELF), key: 'k', value: 'v' });
    jest.advanceTimersByTime(3_600_000); // expireTime is 1 s
    expect(dht.peek('k')).toBe('v');
    jest.useRealTimers();
    await new Promise<void>((resolve) => dht.set('mine', 'v', () => resolve()));
    expect(dht.peek('mine')).toBeNull();
  });

  it('provider store: a record is gone at its expiry, and sweep() frees it', () => {
    const store = createProviderStore();
    store.put('k', bytes('v'), { ...ACCEPTED, expiresAtMs: 100 }, 0);
    expect(store.values('k', 99)).toHaveLength(1);
    expect(store.values('k', 100)).toEqual([]);
    expect(store.sweep(100)).toBe(1);
    expect(store.keyCount()).toBe(0);
  });

  it('provider store: refuses new keys and providers beyond its limits', () => {
    const store = createProviderStore({ ...DEFAULT_PROVIDER_STORE_LIMITS, maxKeys: 1, maxProvidersPerKey: 1 });
    store.put('a', bytes('1'), ACCEPTED, 0);
    expect(store.put('b', bytes('1'), ACCEPTED, 0).stored).toBe(false);
    expect(store.put('a', bytes('2'), { ...ACCEPTED, provider: 'q' }, 0).stored).toBe(false);
  });
});
