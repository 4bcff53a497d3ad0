import type { NetworkInterfaceInfo } from 'node:os';
import {
  canonicalHost,
  claimedHostProblem,
  dialAddress,
  dialledHostOf,
  ipv4OfNat64,
  OWN_SCOPE_RETRY_MS,
  ownScopeReader,
  peerAddressToDial,
  scopeOfAdvertised,
} from './claimed-address';
import { listenAddressesOf } from './listen-addresses';
import { manualClock } from '@swarm/determinism';
import { createDialBack, DEFAULT_DIAL_BACK_LIMITS } from '@swarm/dht';
import { networkOf } from '@swarm/gateway';
import { dhtEndpoint } from './dht-peer-id';

const LOOPBACK = '127.0.0.0/8';
const REMOTE = '203.0.113.0/24';

describe('claimed DHT addresses', () => {
  it('takes each address written its one way, from a caller that could listen there', () => {
    for (const [host, network] of [
      ['127.0.0.1', LOOPBACK],
      ['localhost', LOOPBACK],
      ['::1', '::1/128'],
      ['10.1.2.3', '10.1.2.0/24'],
      ['10.9.9.9', '192.168.0.0/24'],
      ['192.168.0.7', '192.168.0.0/24'],
      ['fd00::7', 'fd00:0:0::/48'],
      ['198.51.100.4', REMOTE],
      ['2001:db8::1', '2001:db8:0::/48'],
      ['node-1.example.org', REMOTE],
      ['169.254.0.9', '169.254.0.0/24'],
    ]) {
      expect([host, claimedHostProblem(host, network)]).toEqual([host, undefined]);
    }
  });

  it('refuses the other spellings of an address, which the resolver reads as the same place', () => {
    for (const host of [
      'LOCALHOST',
      'LocalHost',
      '127.00.000.1',
      '127.0.0.01',
      '2130706433',
      '0x7f000001',
      '127.1',
      '0177.0.0.1',
      '::FFFF:7f00:1',
      '0:0::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      'Node-1.Example.org',
    ]) {
      expect([host, claimedHostProblem(host, LOOPBACK)]).toEqual([host, expect.any(String)]);
    }
  });

  it('refuses loopback from a caller not on this machine, link-local from one off that link, and wildcard, broadcast and multicast from anyone', () => {
    for (const host of [
      '127.0.0.1',
      '127.9.9.9',
      'localhost',
      'a.localhost',
      '::1',
      '169.254.1.1',
      'fe80::1',
      '0.0.0.0',
      '::',
      '255.255.255.255',
      '224.0.0.1',
      'ff02::1',
      '10.0.0.1',
      '172.16.0.1',
      '192.168.1.1',
      '100.64.0.1',
      'fd00::1',
    ]) {
      expect([host, claimedHostProblem(host, REMOTE)]).toEqual([host, expect.any(String)]);
    }
    expect(claimedHostProblem('0.0.0.0', LOOPBACK)).toMatch(/no address to dial/);
    expect(claimedHostProblem('localhost', REMOTE)).toMatch(/not on this machine/);
    expect(claimedHostProblem('10.0.0.1', REMOTE)).toMatch(/a private address, named by a node on a public network/);
  });
});

describe('the rest of ::/8 (0:0:0::/48 but ::1: IPv4-compatible, IPv4-translated, ...)', () => {
  // Node writes callers from these as `::10.1.2.3`, `::ffff:0:a01:203`, `::1:0:0:5`: they were counted in 0:0:0::/48 with ::1,
  // as this machine's loopback (helper-166, helper-168).
  const CALLERS = ['::10.1.2.3', '::ffff:0:a01:203', '::1:0:0:5', '::1:0:0:0:5', '::'];

  it("are no caller on this machine's loopback: one names neither loopback nor a private or link-local address", () => {
    for (const caller of CALLERS) {
      const network = networkOf(caller);
      for (const host of ['127.0.0.1', '::1', 'localhost', '10.1.2.3', '169.254.1.1', 'fe80::1', 'fd00::1']) {
        expect([caller, host, claimedHostProblem(host, network)]).toEqual([caller, host, expect.any(String)]);
      }
      expect(claimedHostProblem('198.51.100.4', network)).toBeUndefined();
    }
  });

  it('are no address to dial, as a claim or as what a DNS name resolves to', async () => {
    for (const host of ['::a01:203', '::7f00:1', '::c633:6404', '::ffff', '::ffff:0:a01:203', '::1:0:0:5', '64:ff9b::a00:1', 'ff::1']) {
      for (const from of [LOOPBACK, REMOTE, '10.1.2.0/24']) expect([host, from, claimedHostProblem(host, from)]).toEqual([host, from, expect.stringMatching(/no address to dial/)]);
    }
    const names = (host: string) => Promise.resolve(host === 'compat.example' ? ['::7f00:1', '::c633:6404', '64:ff9b::7f00:1'] : []);
    await expect(dialAddress('compat.example', 'loopback', names)).rejects.toThrow('compat.example resolves to no address this node dials for a peer (3 found)');
    expect(claimedHostProblem('::1', LOOPBACK)).toBeUndefined();
    expect(claimedHostProblem('::1', '::1/128')).toBeUndefined();
    expect(claimedHostProblem('100::1', REMOTE)).toBeUndefined();
  });
});

describe('dialling a DNS name', () => {
  const resolver = (table: Record<string, string[]>) => (host: string) => Promise.resolve(table[host] ?? []);
  const names = resolver({ vm: ['127.0.0.1'], 'lan.example': ['10.0.0.5'], 'both.example': ['127.0.0.1', '203.0.113.9'], 'v6.example': ['2001:DB8::1'] });

  it('dials the first address it resolves to that this node could have been told, by its own scope', async () => {
    expect(await dialAddress('both.example', 'public', names)).toBe('203.0.113.9');
    expect(await dialAddress('vm', 'loopback', names)).toBe('127.0.0.1');
    expect(await dialAddress('lan.example', 'private', names)).toBe('10.0.0.5');
    expect(await dialAddress('v6.example', 'public', names)).toBe('2001:db8::1');
    expect(await dialAddress('198.51.100.1', 'public', names)).toBe('198.51.100.1');
  });

  it("dials NAT64's well-known prefix a DNS64 resolver answers with, for a public IPv4 address only (an IPv6-only host's IPv4-only peers)", async () => {
    const dns64 = resolver({
      'v4only.example': ['64:ff9b::c633:6407'], // 198.51.100.7
      'evil.example': ['64:ff9b::7f00:1', '64:ff9b::a00:5', '64:ff9b::a9fe:1', '64:ff9b::e000:1', '64:ff9b::1:0:c633:6407'], // 127.0.0.1, 10.0.0.5, 169.254.0.1, 224.0.0.1; not /96
    });
    expect(await dialAddress('v4only.example', 'public', dns64)).toBe('64:ff9b::c633:6407');
    for (const own of ['public', 'private', 'link-local', 'loopback'] as const) {
      await expect(dialAddress('evil.example', own, dns64)).rejects.toThrow('evil.example resolves to no address this node dials for a peer (5 found)');
    }
    expect([ipv4OfNat64('64:ff9b::c633:6407'), ipv4OfNat64('64:ff9b::7'), ipv4OfNat64('64:ff9b::1:0:c633:6407'), ipv4OfNat64('2001:db8::c633:6407')]).toEqual([
      '198.51.100.7',
      '0.0.0.7',
      undefined,
      undefined,
    ]);
    // As a claim it names the translator, not a node: still no address to dial.
    expect(claimedHostProblem('64:ff9b::c633:6407', REMOTE)).toMatch(/no address to dial/);
  });

  it('refuses a name that resolves only to its loopback, or its private network for a public node', async () => {
    await expect(dialAddress('vm', 'public', names)).rejects.toThrow('vm resolves to no address this node dials for a peer (1 found)');
    await expect(dialAddress('vm', 'private', names)).rejects.toThrow(/resolves to no address/);
    await expect(dialAddress('lan.example', 'public', names)).rejects.toThrow(/resolves to no address/);
    await expect(dialAddress('nowhere.example', 'public', names)).rejects.toThrow('(0 found)');
  });
});

/** A machine's interfaces as node:os lists them: loopback, a public and a LAN address, IPv6 link-local and global. */
const lan = { address: '10.0.0.7', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:01', internal: false, cidr: '10.0.0.7/24' } as const;
const INTERFACES = {
  lo: [
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
    { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 },
  ],
  eth0: [
    { address: '198.51.100.7', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:02', internal: false, cidr: '198.51.100.7/24' },
    { address: 'fe80::2%eth0', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:02', internal: false, cidr: 'fe80::2/64', scopeid: 2 },
  ],
  eth1: [lan],
} as const satisfies NodeJS.Dict<NetworkInterfaceInfo[]>;

describe('the addresses a gateway listens at (listenAddressesOf)', () => {
  it('is the listen host itself, or for a wildcard every interface address but loopback', () => {
    expect(listenAddressesOf('10.0.0.7', INTERFACES)).toEqual(['10.0.0.7']);
    expect(listenAddressesOf('127.0.0.1', INTERFACES)).toEqual(['127.0.0.1']);
    expect(listenAddressesOf('::', INTERFACES)).toEqual(['198.51.100.7', 'fe80::2', '10.0.0.7']);
    // 0.0.0.0 takes no IPv6 caller: a LAN node with a global IPv6 address beside it is not public for it (helper-172).
    expect(listenAddressesOf('0.0.0.0', INTERFACES)).toEqual(['198.51.100.7', '10.0.0.7']);
    const lanWithGlobalV6 = { eth0: [lan, { ...INTERFACES.eth0[1], address: '2001:db8:1:2::7', cidr: '2001:db8:1:2::7/64' }] };
    expect(listenAddressesOf('0.0.0.0', lanWithGlobalV6)).toEqual(['10.0.0.7']);
    expect(listenAddressesOf('0.0.0.0', { lo: INTERFACES.lo })).toEqual([]);
  });
});

describe("a peer's address from its record or a task's endpoint (peerAddressToDial)", () => {
  const names = (host: string) =>
    Promise.resolve(({ localhost: ['127.0.0.1', '::1'], 'lan.example': ['10.0.0.5'], 'peer.example': ['203.0.113.9'] } as Record<string, string[]>)[host] ?? []);

  it('dials what a node where this one is could have been told of, a name at what it resolves to', async () => {
    expect(await peerAddressToDial('198.51.100.4', 'public', names)).toBe('198.51.100.4');
    expect(await peerAddressToDial('peer.example', 'public', names)).toBe('203.0.113.9');
    expect(await peerAddressToDial('10.0.0.5', 'private', names)).toBe('10.0.0.5');
    expect(await peerAddressToDial('lan.example', 'private', names)).toBe('10.0.0.5');
    expect(await peerAddressToDial('127.0.0.1', 'loopback', names)).toBe('127.0.0.1');
    expect(await peerAddressToDial('localhost', 'loopback', names)).toBe('127.0.0.1');
    expect(await peerAddressToDial('2001:db8::1', 'public', names)).toBe('2001:db8::1');
  });

  it("refuses this machine's loopback and a private network to a public node, and every other spelling of an address", async () => {
    for (const [host, own, why] of [
      ['127.0.0.1', 'public', 'a loopback address, named by a node that is not on this machine'],
      ['::1', 'private', 'a loopback address'],
      ['localhost', 'public', 'localhost resolves to no address this node dials for a peer (2 found)'],
      ['10.0.0.5', 'public', 'a private address, named by a node on a public network'],
      ['lan.example', 'public', 'resolves to no address'],
      ['169.254.1.1', 'private', 'a link-local address'],
      ['0.0.0.0', 'loopback', 'no address to dial'],
      ['::ffff:7f00:1', 'loopback', 'write ::ffff:7f00:1 as 127.0.0.1'],
      ['2130706433', 'loopback', '2130706433 is no address to dial'],
      ['LOCALHOST', 'loopback', 'write LOCALHOST as localhost'],
      ['2001:DB8::1', 'public', 'write 2001:DB8::1 as 2001:db8::1'],
    ] as const) {
      await expect(peerAddressToDial(host, own, names).catch((e: unknown) => [host, (e as Error).message])).resolves.toEqual([host, expect.stringContaining(why)]);
    }
  });

  it('reads the narrowest of every address its name resolves to and of its listen host: one public address makes a node public (helper-170)', async () => {
    const hosts = (host: string) =>
      Promise.resolve(
        ({ 'node1.example.org': ['127.0.1.1', '198.51.100.7'], 'node2.example.org': ['127.0.1.1'], 'dual.example': ['10.0.0.7', 'fd00::7'] } as Record<string, string[]>)[host] ??
          [],
      );
    // Debian and cloud-init write `127.0.1.1 <fqdn> <hostname>` in /etc/hosts: peers still reach the node at its public address.
    expect(await scopeOfAdvertised('node1.example.org', hosts)).toBe('public');
    expect(await scopeOfAdvertised('node2.example.org', hosts)).toBe('public');
    expect(await scopeOfAdvertised('dual.example', hosts)).toBe('private');
    // A LAN host whose hosts file and DNS answer both: its peers reach it at 10.0.0.8, a private node.
    expect(await scopeOfAdvertised('lan-host.example', () => Promise.resolve(['127.0.1.1', '10.0.0.8']))).toBe('private');
    expect(await scopeOfAdvertised('127.0.0.1', hosts, ['127.0.0.1'])).toBe('loopback');
    expect(await scopeOfAdvertised('198.51.100.7', hosts, ['127.0.0.1'])).toBe('public');
    expect(await scopeOfAdvertised('127.0.0.1', hosts, ['10.0.0.7'])).toBe('private');
    // Listening on every interface (listenAddressesOf): each of them counts (helper-171: 0.0.0.0 advertising 127.0.0.1 read loopback).
    expect(await scopeOfAdvertised('127.0.0.1', hosts, listenAddressesOf('0.0.0.0', INTERFACES))).toBe('public');
    expect(await scopeOfAdvertised('localhost', hosts, listenAddressesOf('::', INTERFACES))).toBe('public');
    expect(await scopeOfAdvertised('10.0.0.7', hosts, listenAddressesOf('0.0.0.0', { lo: INTERFACES.lo, eth0: [lan] }))).toBe('private');
    await expect(scopeOfAdvertised('node3.example.org', () => Promise.reject(new Error('getaddrinfo EAI_AGAIN node3.example.org')))).rejects.toThrow('EAI_AGAIN');
  });

  it('keeps its scope once read; after a failed lookup of its own name it reads public at once and asks again in the background every 30 s, keeping the first answer (helper-170, helper-171)', async () => {
    let failures = 2;
    let lookups = 0;
    const flaky = (host: string) => (lookups++, failures-- > 0 ? Promise.reject(new Error(`getaddrinfo EAI_AGAIN ${host}`)) : Promise.resolve(['10.0.0.7']));
    const stopwatch = manualClock(0);
    const ownScope = ownScopeReader(Promise.resolve('node2.lan'), flaky, [], stopwatch);
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    // Every dial waits for the first read, which fails: public.
    expect(await Promise.all([ownScope(), ownScope()])).toEqual(['public', 'public']);
    expect(lookups).toBe(1);
    // No dial waits on the resolver again, and none asks it again within 30 s.
    stopwatch.advance(OWN_SCOPE_RETRY_MS - 1);
    expect(await ownScope()).toBe('public');
    expect(lookups).toBe(1);
    stopwatch.advance(1);
    expect(await ownScope()).toBe('public'); // asked again in the background: fails
    await settle();
    expect(lookups).toBe(2);
    stopwatch.advance(OWN_SCOPE_RETRY_MS);
    expect(await ownScope()).toBe('public'); // asked again: answers
    await settle();
    expect([await ownScope(), await ownScope(), lookups]).toEqual(['private', 'private', 3]);
  });

  it('reads where this node can be reached from by the address it advertises: a name by what it resolves to, none or a wildcard as public', async () => {
    expect(await Promise.all(['127.0.0.1', 'localhost', '10.0.0.7', 'lan.example', '198.51.100.7', 'nowhere.example', '0.0.0.0'].map((h) => scopeOfAdvertised(h, names)))).toEqual([
      'loopback',
      'loopback',
      'private',
      'private',
      'public',
      'public',
      'public',
    ]);
  });
});

describe('the address a node tells its peers', () => {
  it('is written the one way their DHT takes it, or has no such way', () => {
    expect(['Node1.Example.org', '2001:DB8:0:0::1', '::ffff:7f00:1', '::FFFF:C0A8:0101', '198.51.100.4', 'localhost'].map(canonicalHost)).toEqual([
      'node1.example.org',
      '2001:db8::1',
      '127.0.0.1',
      '192.168.1.1',
      '198.51.100.4',
      'localhost',
    ]);
    expect(['127.1', '2130706433', 'a..b', 'x_y.example'].map(canonicalHost)).toEqual([undefined, undefined, undefined, undefined]);
    // IPv4-translated (::ffff:0:0:0/96) is no IPv4-mapped address: it was read as 0.0.10.1.
    expect(canonicalHost('::ffff:0:a01:203')).toBe('::ffff:0:a01:203');
  });
});

describe('the host a dial-back counts against', () => {
  const NODE = 'ab'.repeat(32);
  const OTHER = 'cd'.repeat(32);
  const at = (host: string, port = 7400, node = NODE) => dhtEndpoint(node, { host, port }, 7n);
  const STRANGER = '198.51.100.0/24';
  const flush = () => new Promise((resolve) => setImmediate(resolve));

  it("names the host an endpoint dials, whatever its port, and none for this machine's loopback or what is no endpoint", () => {
    expect(dialledHostOf(at('203.0.113.9'), STRANGER)).toBe('203.0.113.9');
    expect(dialledHostOf(at('203.0.113.9', 1), STRANGER)).toBe(dialledHostOf(at('203.0.113.9', 65535), STRANGER));
    expect(dialledHostOf(at('node-1.example.org'), STRANGER)).toBe('node-1.example.org');
    expect([at('127.0.0.1'), at('127.8.0.1'), at('::1'), at('localhost'), at('a.localhost')].map((e) => dialledHostOf(e, STRANGER))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(dialledHostOf('not an endpoint', STRANGER)).toBeUndefined();
  });

  it("counts an IPv6 address as its /64 (one subscriber), and claims from the host's own network apart from strangers'", () => {
    expect(dialledHostOf(at('2001:db8:1:2::5'), STRANGER)).toBe('2001:db8:1:2::/64');
    expect(dialledHostOf(at('2001:db8:1:2::ffff'), STRANGER)).toBe(dialledHostOf(at('2001:db8:1:2::5'), STRANGER));
    expect(dialledHostOf(at('203.0.113.9'), networkOf('203.0.113.9'))).toBe('203.0.113.9 from its own network');
    expect(dialledHostOf(at('2001:db8:1:2::5'), networkOf('2001:db8:1:9::1'))).toBe('2001:db8:1:2::/64 from its own network');
  });

  // helper-166's attacks on the rate per host, as registry-svc wires it.
  it('refuses more than maxPerHostPerSecond dial-backs a second to the addresses of one IPv6 /64', async () => {
    const dialled: string[] = [];
    const dialBack = createDialBack((_id, e) => (dialled.push(e), Promise.resolve(false)), manualClock(0), DEFAULT_DIAL_BACK_LIMITS, dialledHostOf);
    // One victim's /64, each address claimed once, from many networks.
    for (let i = 1; i <= 50; i++) {
      dialBack.claim('a'.repeat(40), at(`2001:db8:1:2::${i.toString(16)}`), `198.51.${i}.0/24`, () => undefined);
      await flush();
    }
    expect(dialled).toHaveLength(DEFAULT_DIAL_BACK_LIMITS.maxPerHostPerSecond);
  });

  // rev167: a neighbour in the victim's own network (one address rented in a shared cloud /24) is a stranger to it too.
  it.each([
    ['IPv4 /24', '203.0.113.9', '203.0.113.200'],
    ['IPv6 /48', '2001:db8:1:2::5', '2001:db8:1:77::1'],
  ])('%s: holds a neighbour claiming the victim its every port to maxPerHostPerSecond dial-backs', async (_name, victim, neighbour) => {
    const dialled: string[] = [];
    const dialBack = createDialBack((_id, e) => (dialled.push(e), Promise.resolve(false)), manualClock(0), DEFAULT_DIAL_BACK_LIMITS, dialledHostOf);
    for (let port = 1; port <= 50; port++) {
      dialBack.claim('a'.repeat(40), at(victim, port), networkOf(neighbour), () => undefined);
      await flush();
    }
    expect(dialled).toHaveLength(DEFAULT_DIAL_BACK_LIMITS.maxPerHostPerSecond);
  });

  it("keeps dialling back a host's claim of its own address while strangers claim its other ports", async () => {
    const dialled: string[] = [];
    const dialBack = createDialBack((_id, e) => (dialled.push(e), Promise.resolve(false)), manualClock(0), DEFAULT_DIAL_BACK_LIMITS, dialledHostOf);
    const honest = '203.0.113.9';
    // A stranger on another network claims the honest node's other ports (each refused at once).
    for (let port = 1; port <= 10; port++) {
      dialBack.claim('a'.repeat(40), at(honest, port), STRANGER, () => undefined);
      await flush();
    }
    expect(dialled).toHaveLength(DEFAULT_DIAL_BACK_LIMITS.maxPerHostPerSecond);
    // The honest node's own request, from its own connection, claiming its own address.
    dialBack.claim('b'.repeat(40), at(honest, 7400, OTHER), networkOf(honest), () => undefined);
    expect(dialled).toContain(at(honest, 7400, OTHER));
  });
});
