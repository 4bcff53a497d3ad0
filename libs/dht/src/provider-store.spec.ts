import type { AcceptedRecord } from './provider-store';
import { seededRandom } from '@swarm/determinism';
import { createProviderStore, DEFAULT_PROVIDER_STORE_LIMITS } from './provider-store';

const LIMITS = { ...DEFAULT_PROVIDER_STORE_LIMITS, maxProvidersPerKey: 8, maxProvidersPerKeyPerNetwork: 2, maxRecordsPerNetwork: 5 };
const record = (provider: string, issuedAtMs = 1): AcceptedRecord => ({ provider, issuedAtMs, expiresAtMs: 10_000 });
const bytes = (text: string) => new TextEncoder().encode(text);
const NET_A = '10.0.0.0/24';
const NET_B = '10.0.1.0/24';

describe('provider store - records counted against the network they came from', () => {
  it('holds at most maxProvidersPerKeyPerNetwork providers of one key from one network; other networks still get in', () => {
    const store = createProviderStore(LIMITS);
    expect(store.put('matmul', bytes('1'), record('p1'), 0, NET_A)).toEqual({ stored: true });
    expect(store.put('matmul', bytes('2'), record('p2'), 0, NET_A)).toEqual({ stored: true });
    expect(store.put('matmul', bytes('3'), record('p3'), 0, NET_A)).toEqual({ stored: false, refusal: 'this key holds its limit of 2 providers from your network' });
    expect(store.put('matmul', bytes('3'), record('p3'), 0, NET_B)).toEqual({ stored: true });
    // Another key has its own slots for the same network.
    expect(store.put('vecadd', bytes('3'), record('p3'), 0, NET_A)).toEqual({ stored: true });
    expect(store.values('matmul', 0)).toHaveLength(3);
  });

  it('a provider republishing (the same record, or a newer one) from its network takes no new slot', () => {
    const store = createProviderStore(LIMITS);
    store.put('k', bytes('1'), record('p1'), 0, NET_A);
    store.put('k', bytes('2'), record('p2'), 0, NET_A);
    expect(store.put('k', bytes('1'), record('p1'), 0, NET_A)).toEqual({ stored: true });
    expect(store.put('k', bytes('1b'), record('p1', 2), 0, NET_A)).toEqual({ stored: true });
    expect(store.recordsFrom(NET_A)).toBe(2);
  });

  it('never takes a ranked record of a provider below the one held, nor one ending sooner, while the held one lives', () => {
    const store = createProviderStore(LIMITS);
    const ranked = (issuedAtMs: number, rank: bigint, expiresAtMs = 10_000): AcceptedRecord => ({ provider: 'payee', issuedAtMs, expiresAtMs, rank });
    expect(store.put('k', bytes('seq 5'), ranked(1, 5n), 0)).toEqual({ stored: true });
    const refusal = { stored: false, refusal: 'a record of this provider ranked higher, or living longer, is held' };
    expect(store.put('k', bytes('seq 4'), ranked(2, 4n), 0)).toEqual(refusal);
    expect(store.put('k', bytes('seq 6, ends sooner'), ranked(2, 6n, 9_000), 0)).toEqual(refusal);
    expect(store.put('k', bytes('unranked'), record('payee', 2), 0)).toEqual(refusal);
    expect(store.put('k', bytes('seq 5 again, later'), ranked(2, 5n, 12_000), 0)).toEqual({ stored: true });
    expect(store.put('k', bytes('seq 7'), ranked(3, 7n, 12_000), 0)).toEqual({ stored: true });
    expect(store.values('k', 0)).toEqual([bytes('seq 7')]);
    // Once it has expired, any may take the slot.
    expect(store.put('k', bytes('seq 1'), ranked(4, 1n, 20_000), 12_000)).toEqual({ stored: true });
  });

  it('a provider whose newer record comes from another network moves its slot there', () => {
    const store = createProviderStore(LIMITS);
    store.put('k', bytes('1'), record('p1'), 0, NET_A);
    expect(store.put('k', bytes('1b'), record('p1', 2), 0, NET_B)).toEqual({ stored: true });
    expect([store.recordsFrom(NET_A), store.recordsFrom(NET_B)]).toEqual([0, 1]);
    // Network A's slots of the key are free again.
    expect(store.put('k', bytes('2'), record('p2'), 0, NET_A)).toEqual({ stored: true });
    expect(store.put('k', bytes('3'), record('p3'), 0, NET_A)).toEqual({ stored: true });
  });

  it('holds at most maxRecordsPerNetwork records from one network over all keys, so its keys cannot fill the node', () => {
    const store = createProviderStore(LIMITS);
    for (let i = 0; i < 5; i++) expect(store.put(`skill-${i}`, bytes('v'), record('p'), 0, NET_A)).toEqual({ stored: true });
    expect(store.put('skill-5', bytes('v'), record('p'), 0, NET_A)).toEqual({ stored: false, refusal: 'this node holds its limit of 5 records from your network' });
    expect(store.keyCount()).toBe(5);
    expect(store.put('skill-5', bytes('v'), record('q'), 0, NET_B)).toEqual({ stored: true });
  });

  it('gives a network its slots back when its records expire', () => {
    const store = createProviderStore(LIMITS);
    store.put('k', bytes('1'), { ...record('p1'), expiresAtMs: 50 }, 0, NET_A);
    store.put('k', bytes('2'), { ...record('p2'), expiresAtMs: 50 }, 0, NET_A);
    expect(store.put('k', bytes('3'), record('p3'), 0, NET_A).stored).toBe(false);
    expect(store.sweep(50)).toBe(2);
    expect(store.recordsFrom(NET_A)).toBe(0);
    expect(store.put('k', bytes('3'), record('p3'), 50, NET_A)).toEqual({ stored: true });
  });

  it('frees the slots of a key’s expired records when a record is put under it, before any sweep', () => {
    const store = createProviderStore(LIMITS);
    store.put('k', bytes('1'), { ...record('p1'), expiresAtMs: 50 }, 0, NET_A);
    store.put('k', bytes('2'), { ...record('p2'), expiresAtMs: 50 }, 0, NET_A);
    expect(store.put('k', bytes('3'), record('p3'), 49, NET_A).stored).toBe(false);
    expect(store.put('k', bytes('3'), record('p3'), 50, NET_A)).toEqual({ stored: true });
    expect(store.recordsFrom(NET_A)).toBe(1);
    expect(store.sweep(50)).toBe(0);
  });

  it('a refused record changes nothing, and records with no network (this node’s own) meet only the per-key limit', () => {
    const store = createProviderStore(LIMITS);
    store.put('k', bytes('1'), record('p1'), 0, NET_A);
    store.put('k', bytes('2'), record('p2'), 0, NET_A);
    expect(store.put('k', bytes('3'), record('p3'), 0, NET_A).stored).toBe(false);
    expect(store.recordsFrom(NET_A)).toBe(2);
    for (let i = 3; i <= 8; i++) expect(store.put('k', bytes(`${i}`), record(`p${i}`), 0)).toEqual({ stored: true });
    expect(store.put('k', bytes('9'), record('p9'), 0)).toEqual({ stored: false, refusal: 'this key holds its limit of 8 providers' });
  });

  it('under the default limits, 256 made-up providers from one network take 16 slots of a key, and an honest newcomer elsewhere gets in', () => {
    const store = createProviderStore();
    let stored = 0;
    for (let i = 0; i < 256; i++) if (store.put('matmul', bytes(`fake-${i}`), record(`fake-${i}`), 0, '203.0.113.0/24').stored) stored++;
    expect(stored).toBe(16);
    expect(store.put('matmul', bytes('honest'), record('honest'), 0, NET_A)).toEqual({ stored: true });
  });

  it('puts at most maxBytes of records in a reply: all of them when they fit, else a random selection that does', () => {
    const store = createProviderStore();
    const sized = (i: number, size: number) => Uint8Array.from({ length: size }, () => i);
    for (let i = 0; i < 4; i++) store.put('small', sized(i, 100), record(`p${i}`), 0, NET_A);
    expect(store.valuesForReply('small', 0, 1_000, seededRandom(1))).toEqual(store.values('small', 0));
    for (let i = 0; i < 16; i++) store.put('big', sized(i, 8_000), record(`p${i}`), 0, NET_A);
    const seen = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      const reply = store.valuesForReply('big', 0, 64 * 1024, seededRandom(seed));
      expect(reply.reduce((n, v) => n + v.byteLength, 0)).toBeLessThanOrEqual(64 * 1024);
      expect(reply).toHaveLength(8);
      for (const v of reply) seen.add(v[0]);
    }
    // Over replies, every record gets shown: no set of records is always the one sent.
    expect(seen.size).toBe(16);
    // A record larger than the whole budget is never sent; expired ones neither.
    expect(store.valuesForReply('big', 0, 7_999, seededRandom(1))).toEqual([]);
    expect(store.valuesForReply('big', 10_000, 64 * 1024, seededRandom(1))).toEqual([]);
  });

  it('pages a reply for a reader that needs every record: in order of provider, each page going on after the last, until none is left', () => {
    const store = createProviderStore();
    const sized = (i: number, size: number) => Uint8Array.from({ length: size }, () => i);
    for (let i = 0; i < 20; i++) store.put('big', sized(i, 8_000), record(`p${String(i).padStart(2, '0')}`), 0);
    const pages: Array<{ firsts: number[]; moreAfter: string }> = [];
    let after = '';
    do {
      const page = store.pageForReply('big', 0, 64 * 1024, after);
      pages.push({ firsts: page.values.map((v) => v[0]), moreAfter: page.moreAfter });
      after = page.moreAfter;
    } while (after !== '' && pages.length < 10);
    expect(pages).toEqual([
      { firsts: [0, 1, 2, 3, 4, 5, 6, 7], moreAfter: 'p07' },
      { firsts: [8, 9, 10, 11, 12, 13, 14, 15], moreAfter: 'p15' },
      { firsts: [16, 17, 18, 19], moreAfter: '' },
    ]);
    // A page smaller than one record still carries one (every page moves on); expired records are left out.
    expect(store.pageForReply('big', 0, 100, 'p18')).toEqual({ values: [sized(19, 8_000)], moreAfter: '' });
    expect(store.pageForReply('big', 10_000, 64 * 1024, '')).toEqual({ values: [], moreAfter: '' });
  });
});
