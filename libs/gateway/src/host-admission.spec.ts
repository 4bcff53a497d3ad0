import { manualClock } from '@swarm/determinism';
import { LEDGER_LANE_LIMITS } from './peer-admission';
import { createHostAdmission, hostKey, LEDGER_INFLIGHT_TOTAL, networkOf } from './host-admission';

const LIMITS = { host: { maxInflight: 3, ratePerSecond: 10, burst: 4, maxConnections: 2 }, maxInflightTotal: 5 };

describe('host admission - limits whatever node ids a host uses', () => {
  it('counts an IPv4 address, its IPv4-mapped form, and an IPv6 /64 as one host each', () => {
    expect(hostKey('10.1.2.3')).toBe('10.1.2.3');
    expect(hostKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(hostKey('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(hostKey('2001:0db8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(hostKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(hostKey('::ffff:a01:203')).toBe('10.1.2.3');
    // ::1 alone is this machine: the rest of its /64 shares no limits with it (helper-168).
    expect(hostKey('::1')).toBe('::1/128');
    expect([hostKey('::10.1.2.3'), hostKey('::ffff:0:a01:203'), hostKey('::')]).toEqual(['0:0:0:0::/64', '0:0:0:0::/64', '0:0:0:0::/64']);
    expect(hostKey(undefined)).toBe('unknown');
  });

  it('groups addresses into networks: an IPv4 /24 (127.0.0.0/8 whole), an IPv6 /48', () => {
    expect(networkOf('10.1.2.3')).toBe('10.1.2.0/24');
    expect(networkOf('10.1.2.250')).toBe(networkOf('10.1.2.3'));
    expect(networkOf('10.1.3.3')).not.toBe(networkOf('10.1.2.3'));
    expect(networkOf('::ffff:10.1.2.3')).toBe('10.1.2.0/24');
    expect(networkOf('127.0.0.1')).toBe('127.0.0.0/8');
    expect(networkOf('127.5.6.7')).toBe('127.0.0.0/8');
    expect(networkOf('2001:db8:7:1::5')).toBe('2001:db8:7::/48');
    expect(networkOf('2001:0db8:0007:ffff:1:2:3:4')).toBe('2001:db8:7::/48');
    expect(networkOf('::ffff:a01:203')).toBe('10.1.2.0/24');
    expect(networkOf('::ffff:7f00:1')).toBe('127.0.0.0/8');
    // ::1 is a network of its own, this machine; the rest of 0:0:0::/48 (IPv4-compatible, IPv4-translated, ...) is another.
    expect(networkOf('::1')).toBe('::1/128');
    expect(['::10.1.2.3', '::a01:203', '::ffff:0:a01:203', '::1:0:0:5', '::'].map(networkOf)).toEqual(Array<string>(5).fill('0:0:0::/48'));
    expect(networkOf(undefined)).toBe('unknown');
  });

  it('refuses a host past its connections, and takes one again once one closes', () => {
    const hosts = createHostAdmission(LIMITS, manualClock());
    expect([hosts.connectionOpened('h'), hosts.connectionOpened('h'), hosts.connectionOpened('h')]).toEqual([true, true, false]);
    expect(hosts.connectionOpened('other')).toBe(true);
    hosts.connectionClosed('h');
    expect(hosts.connectionOpened('h')).toBe(true);
  });

  it('caps calls in flight per host and in total, and frees them on release (once)', () => {
    const hosts = createHostAdmission(LIMITS, manualClock());
    const a = [hosts.admit('a'), hosts.admit('a'), hosts.admit('a')];
    expect(a.map((r) => r.admitted)).toEqual([true, true, true]);
    expect(hosts.admit('a')).toMatchObject({ admitted: false, reason: 'host has 3 calls in flight (limit 3 per host, whatever its node ids)' });
    expect([hosts.admit('b').admitted, hosts.admit('b').admitted]).toEqual([true, true]);
    expect(hosts.admit('c')).toMatchObject({ admitted: false, reason: 'this gateway has 5 peer calls in flight (limit 5)' });
    const first = a[0];
    if (first?.admitted) {
      first.release();
      first.release();
    }
    expect(hosts.admit('c').admitted).toBe(true);
    expect(hosts.admit('c').admitted).toBe(false);
  });

  it("keeps the ledger lane's total apart: hosts filling the calls total cannot hold back payments, nor payments the calls", () => {
    const hosts = createHostAdmission({ ...LIMITS, host: { ...LIMITS.host, maxInflight: 100, ratePerSecond: 1_000, burst: 1_000 } }, manualClock());
    for (let i = 0; i < LIMITS.maxInflightTotal; i++) expect(hosts.admit(`flood-${i}`).admitted).toBe(true);
    expect(hosts.admit('flood-x')).toMatchObject({ admitted: false, reason: 'this gateway has 5 peer calls in flight (limit 5)' });
    // Payments from other hosts still come in, up to the ledger lane's own total (8 hosts' worth).
    const ledger = Array.from({ length: LEDGER_INFLIGHT_TOTAL }, (_, i) => hosts.admit(`payer-${Math.floor(i / 8)}`, 'ledger'));
    expect(ledger.every((r) => r.admitted)).toBe(true);
    expect(LEDGER_INFLIGHT_TOTAL).toBe(64);
    expect(hosts.admit('payer-late', 'ledger')).toMatchObject({ admitted: false, reason: 'this gateway has 64 peer receipt and void calls in flight (limit 64)' });
  });

  it('refuses a host over its rate with the wait until its next token, whatever peer asks', () => {
    const clock = manualClock();
    const hosts = createHostAdmission({ ...LIMITS, host: { ...LIMITS.host, maxInflight: 100 }, maxInflightTotal: 100 }, clock);
    // Calls come on a connection; the host's bucket lives while it has one.
    hosts.connectionOpened('h');
    const take = () => {
      const r = hosts.admit('h');
      if (r.admitted) r.release();
      return r;
    };
    expect([take(), take(), take(), take()].every((r) => r.admitted)).toBe(true);
    expect(take()).toMatchObject({ admitted: false, retryAfterMs: 100 });
    clock.advance(100);
    expect(take().admitted).toBe(true);
  });

  it("admits a host's receipt and void calls in their own lane, with their own bucket, whatever its other calls took", () => {
    const clock = manualClock();
    const hosts = createHostAdmission({ ...LIMITS, host: { ...LIMITS.host, maxInflight: 100 }, maxInflightTotal: 100 }, clock);
    hosts.connectionOpened('h');
    const take = (lane?: 'calls' | 'ledger') => {
      const r = hosts.admit('h', lane);
      if (r.admitted) r.release();
      return r;
    };
    for (let i = 0; i < 4; i++) take();
    expect(take()).toMatchObject({ admitted: false });
    // Twice a peer's ledger lane (LEDGER_LANE_LIMITS).
    const burst = 2 * LEDGER_LANE_LIMITS.burst;
    expect(Array.from({ length: burst }, () => take('ledger')).every((r) => r.admitted)).toBe(true);
    expect(take('ledger')).toMatchObject({ admitted: false, reason: expect.stringMatching(`host exceeded ${2 * LEDGER_LANE_LIMITS.ratePerSecond} receipt and void calls/s`) });
  });
});
