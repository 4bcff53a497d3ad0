import { manualClock } from '@swarm/determinism';
import { createNamedDialRate } from './named-dial-rate';

describe('new connections by name, counted by the address the names resolve to', () => {
  it('lets the names resolving to one address open 2 connections a second there, the next waiting its turn up to 1 s, however many names there are', () => {
    const clock = manualClock(1_000_000);
    const rate = createNamedDialRate(clock, 2);
    // What 1.evil.example, 2.evil.example, … resolve to: one victim.
    expect(Array.from({ length: 20 }, () => rate.book('203.0.113.9', 'lookup'))).toEqual([0, 0, 500, 1_000, ...Array<undefined>(16).fill(undefined)]);
    clock.advance(1_000);
    // The two booked ahead have had their turns: the bucket is empty, not refilled.
    expect([rate.book('203.0.113.9', 'lookup'), rate.book('203.0.113.9', 'lookup'), rate.book('203.0.113.9', 'lookup')]).toEqual([500, 1_000, undefined]);
    clock.advance(10_000);
    expect([rate.book('203.0.113.9', 'lookup'), rate.book('203.0.113.9', 'lookup'), rate.book('203.0.113.9', 'lookup')]).toEqual([0, 0, 500]);
  });

  it('never lets more than 2 a second start, over a minute of names arriving 20 a second', () => {
    const clock = manualClock(0);
    const rate = createNamedDialRate(clock, 2);
    const starts: number[] = [];
    for (let t = 0; t < 60_000; t += 50) {
      clock.set(t);
      const waitMs = rate.book('203.0.113.9', 'lookup');
      if (waitMs !== undefined) starts.push(t + waitMs);
    }
    starts.sort((a, b) => a - b);
    // Any window of 1 s holds at most the burst (2) plus what 1 s refills (2).
    for (let i = 0; i + 4 < starts.length; i++) expect(starts[i + 4] - starts[i]).toBeGreaterThanOrEqual(1_000);
    expect(starts.length).toBeLessThanOrEqual(2 + 2 * 61);
  });

  it("counts an IPv6 /64 as one host, and leaves other hosts' rates alone", () => {
    const rate = createNamedDialRate(manualClock(0), 2, 0);
    expect([rate.book('2001:db8:1:2::5', 'lookup'), rate.book('2001:db8:1:2::ffff', 'lookup'), rate.book('2001:db8:1:2:abcd::1', 'lookup')]).toEqual([0, 0, undefined]);
    expect([rate.book('2001:db8:1:3::5', 'lookup'), rate.book('198.51.100.4', 'lookup'), rate.book('198.51.100.5', 'lookup')]).toEqual([0, 0, 0]);
    expect(rate.book('203.0.113.9', 'lookup')).toBe(0);
  });

  it("counts an address in NAT64's well-known prefix by its IPv4 address, not as one /64 for every IPv4-only name (DNS64)", () => {
    const rate = createNamedDialRate(manualClock(0), 2);
    expect([rate.book('64:ff9b::c633:6407', 'lookup'), rate.book('64:ff9b::c633:6407', 'lookup'), rate.book('64:ff9b::c633:6407', 'lookup')]).toEqual([0, 0, 500]);
    expect([rate.book('64:ff9b::cb00:7109', 'lookup'), rate.book('64:ff9b::cb00:7109', 'lookup')]).toEqual([0, 0]);
  });

  it("does not count this machine's loopback: its nodes are its own", () => {
    const rate = createNamedDialRate(manualClock(0), 2, 0);
    expect(Array.from({ length: 50 }, (_, i) => rate.book(i % 2 === 0 ? '127.0.0.1' : '::1', 'lookup')).every((w) => w === 0)).toBe(true);
  });

  it("keeps pings' rate (strangers' claims dialled back) apart from lookups': claims spending an address's turns leave a lookup its own", () => {
    const rate = createNamedDialRate(manualClock(0), 2, 0);
    expect([rate.book('203.0.113.9', 'ping'), rate.book('203.0.113.9', 'ping'), rate.book('203.0.113.9', 'ping')]).toEqual([0, 0, undefined]);
    expect([rate.book('203.0.113.9', 'lookup'), rate.book('203.0.113.9', 'lookup'), rate.book('203.0.113.9', 'lookup')]).toEqual([0, 0, undefined]);
  });

  it('refills by a stopwatch, not the wall clock: a clock set back an hour does not shut an address out for that hour (helper-169)', () => {
    const wall = manualClock(1_800_000_000_000);
    const stopwatch = manualClock(5_000);
    const rate = createNamedDialRate(stopwatch, 2);
    expect([rate.book('203.0.113.9', 'ping'), rate.book('203.0.113.9', 'ping')]).toEqual([0, 0]);
    wall.set(1_800_000_000_000 - 3_600_000);
    stopwatch.advance(10_000);
    expect(rate.book('203.0.113.9', 'ping')).toBe(0);
  });

  it('forgets the least recently booked hosts past what it remembers, and no others', () => {
    const rate = createNamedDialRate(manualClock(0), 1, 0, 2);
    expect([rate.book('198.51.100.1', 'lookup'), rate.book('198.51.100.2', 'lookup')]).toEqual([0, 0]);
    expect(rate.book('198.51.100.3', 'lookup')).toBe(0); // .1 forgotten
    expect([rate.book('198.51.100.2', 'lookup'), rate.book('198.51.100.3', 'lookup'), rate.book('198.51.100.1', 'lookup')]).toEqual([undefined, undefined, 0]);
  });

  it('takes a rate of at least one a second and a wait of 0 ms or more', () => {
    for (const bad of [0, 0.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => createNamedDialRate(manualClock(0), bad)).toThrow(RangeError);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => createNamedDialRate(manualClock(0), 2, bad)).toThrow(RangeError);
  });
});
