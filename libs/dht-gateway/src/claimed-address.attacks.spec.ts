import { dialAddress, peerAddressToDial, scopeOfIp, scopeOfResolved } from './claimed-address';

/**
 * 192.0.0.0/24 (IETF protocol assignments, RFC 6890: not globally reachable) holds the addresses of
 * this host's own translation plumbing: 464XLAT's CLAT (RFC 7335: 192.0.0.0/29, Android's clat4 at
 * 192.0.0.4), DS-Lite's B4 and AFTR (RFC 6333: 192.0.0.1, 192.0.0.2), NAT64 discovery's
 * ipv4only.arpa (RFC 7050: 192.0.0.170/171). scopeOfIp reads all of them public, so a public node
 * dials them for any record, and a DNS64 answer in 64:ff9b::/96 embedding them is dialled though
 * RFC 6052 §3.1 keeps the well-known prefix to global IPv4 (docs/swarm.md: "when the IPv4 address
 * in it is public").
 */
describe('claimed-address: 192.0.0.0/24 is no public address (helper-174)', () => {
  const special = ['192.0.0.1', '192.0.0.2', '192.0.0.4', '192.0.0.8', '192.0.0.170', '192.0.0.171'];

  it.each(special)('a DNS64 answer embedding %s (64:ff9b::c000:…) is not dialled by a public node', async (v4) => {
    const [, , c, d] = v4.split('.').map(Number) as [number, number, number, number];
    const nat64 = `64:ff9b::c000:${((c << 8) | d).toString(16)}`;
    expect(scopeOfResolved(nat64)).toBe('undialable');
    await expect(dialAddress('v4only.evil.example', 'public', async () => [nat64])).rejects.toThrow(/resolves to no address/);
  });

  it.each(special)("a record's literal %s is not dialled by a public node (this host's own CLAT / B4 interface on 464XLAT / DS-Lite)", async (v4) => {
    await expect(peerAddressToDial(v4, 'public', async () => [])).rejects.toThrow();
  });
});

describe('claimed-address: IPv6 addresses that reach inside a site or an IPv4 network (helper-174)', () => {
  it('reads site-local fec0::/10 as no address to dial, and 6to4 2002::/16 by the IPv4 address in it', () => {
    expect([scopeOfIp('fec0::1'), scopeOfIp('feff::1')]).toEqual(['undialable', 'undialable']);
    // 2002:V4HI:V4LO::/48: 10.0.0.5, 127.0.0.1, 192.168.1.1, 0.0.0.1 and 198.51.100.7.
    expect(['2002:a00:5::1', '2002:7f00:1::', '2002:c0a8:101::9', '2002::1', '2002:c633:6407::1'].map(scopeOfIp)).toEqual([
      'undialable',
      'undialable',
      'undialable',
      'undialable',
      'public',
    ]);
  });
});
