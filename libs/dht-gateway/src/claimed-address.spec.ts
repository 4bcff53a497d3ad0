import { claimedHostProblem } from './claimed-address';

const LOOPBACK = '127.0.0.0/8';
const REMOTE = '203.0.113.0/24';

describe('claimed DHT addresses', () => {
  it('takes each address written its one way, from a caller that could listen there', () => {
    for (const [host, network] of [
      ['127.0.0.1', LOOPBACK],
      ['localhost', LOOPBACK],
      ['::1', '0:0:0::/48'],
      ['10.1.2.3', REMOTE],
      ['192.168.0.7', '192.168.0.0/24'],
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
    for (const host of ['127.0.0.1', '127.9.9.9', 'localhost', 'a.localhost', '::1', '169.254.1.1', 'fe80::1', '0.0.0.0', '::', '255.255.255.255', '224.0.0.1', 'ff02::1']) {
      expect([host, claimedHostProblem(host, REMOTE)]).toEqual([host, expect.any(String)]);
    }
    expect(claimedHostProblem('0.0.0.0', LOOPBACK)).toMatch(/no address to dial/);
    expect(claimedHostProblem('localhost', REMOTE)).toMatch(/not on this machine/);
  });
});
