import { manualClock } from '@swarm/determinism';
import { createNamedDialRate } from './named-dial-rate';

describe('new connections by name, counted by the address the names resolve to', () => {
  it('lets the names resolving to one address open at most 2 connections a second there, however many names there are', () => {
    const clock = manualClock(1_000_000);
    const rate = createNamedDialRate(clock, 2);
    // What 1.evil.example, 2.evil.example, … resolve to: one victim.
    expect(Array.from({ length: 20 }, () => rate.take('203.0.113.9'))).toEqual([true, true, ...Array<boolean>(18).fill(false)]);
    clock.advance(499);
    expect(rate.take('203.0.113.9')).toBe(false);
    clock.advance(1);
    expect([rate.take('203.0.113.9'), rate.take('203.0.113.9')]).toEqual([true, false]);
    clock.advance(10_000);
    expect([rate.take('203.0.113.9'), rate.take('203.0.113.9'), rate.take('203.0.113.9')]).toEqual([true, true, false]);
  });

  it("counts an IPv6 /64 as one host, and leaves other hosts' rates alone", () => {
    const rate = createNamedDialRate(manualClock(0), 2);
    expect([rate.take('2001:db8:1:2::5'), rate.take('2001:db8:1:2::ffff'), rate.take('2001:db8:1:2:abcd::1')]).toEqual([true, true, false]);
    expect([rate.take('2001:db8:1:3::5'), rate.take('198.51.100.4'), rate.take('198.51.100.5')]).toEqual([true, true, true]);
    expect(rate.take('203.0.113.9')).toBe(true);
  });

  it("does not count this machine's loopback: its nodes are its own", () => {
    const rate = createNamedDialRate(manualClock(0), 2);
    expect(Array.from({ length: 50 }, (_, i) => rate.take(i % 2 === 0 ? '127.0.0.1' : '::1')).every(Boolean)).toBe(true);
  });

  it('forgets the least recently dialled hosts past what it remembers, and no others', () => {
    const rate = createNamedDialRate(manualClock(0), 1, 2);
    expect([rate.take('198.51.100.1'), rate.take('198.51.100.2')]).toEqual([true, true]);
    expect(rate.take('198.51.100.3')).toBe(true); // .1 forgotten
    expect([rate.take('198.51.100.2'), rate.take('198.51.100.3'), rate.take('198.51.100.1')]).toEqual([false, false, true]);
  });

  it('takes a rate of at least one a second', () => {
    for (const bad of [0, 0.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => createNamedDialRate(manualClock(0), bad)).toThrow(RangeError);
  });
});
