import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { RttProbe } from './rtt-probe';
import { createRttProbe, RTT_FAILURE_FRESH_MS, RTT_FRESH_MS, RTT_PROBE_TIMEOUT_MS, RTT_PROBES_IN_PARALLEL } from './rtt-probe';
import { MAX_PEERS_MEASURED } from './service';

describe('rtt probe - round trips to providers', () => {
  let vt: VirtualTime;
  let probe: RttProbe;
  let answering: boolean;
  let inFlight: number;
  let mostInFlight: number;
  let pings: string[];

  beforeEach(() => {
    vt = virtualTime();
    answering = true;
    inFlight = 0;
    mostInFlight = 0;
    pings = [];
    probe = createRttProbe({
      stopwatch: vt.stopwatch,
      ping: (endpoint, timeoutMs) => {
        pings.push(endpoint);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        return new Promise((resolve, reject) => {
          if (answering) vt.scheduler.setTimer(7, () => (inFlight--, resolve(undefined)));
          else vt.scheduler.setTimer(timeoutMs, () => (inFlight--, reject(new Error('no answer'))));
        });
      },
    });
  });

  const target = (i: number) => ({ nodeId: `n${i}`, endpoint: `n${i}@h:${i + 1}` });
  async function measure(targets: { nodeId: string; endpoint: string }[]) {
    const p = probe.measure(targets);
    await vt.advance(2 * RTT_PROBE_TIMEOUT_MS);
    return p;
  }

  /** `calls` measures of `targets` at once, then time for every probe to end. */
  async function burstOf(calls: number, targets: { nodeId: string; endpoint: string }[]) {
    const burst = Array.from({ length: calls }, () => probe.measure(targets));
    await vt.advance(2 * RTT_PROBE_TIMEOUT_MS);
    return Promise.all(burst);
  }

  it('times each ping, a bounded number at a time', async () => {
    const targets = Array.from({ length: 3 * RTT_PROBES_IN_PARALLEL }, (_, i) => target(i));
    const rtts = await measure(targets);
    expect([...rtts.values()]).toEqual(targets.map(() => 7));
    expect(mostInFlight).toBe(RTT_PROBES_IN_PARALLEL);
    expect(probe.latest('n0')).toBe(7);
  });

  it('reuses a measurement while fresh, a failure more briefly, and measures again when the endpoint changes', async () => {
    await measure([target(0)]);
    answering = false;
    await vt.advance(RTT_FRESH_MS - 2 * RTT_PROBE_TIMEOUT_MS - 1);
    expect((await measure([target(0)])).get('n0')).toBe(7);
    expect(pings).toHaveLength(1);
    expect((await measure([target(0)])).get('n0')).toBeUndefined();
    expect(probe.latest('n0')).toBeUndefined();
    await vt.advance(RTT_FAILURE_FRESH_MS - 2 * RTT_PROBE_TIMEOUT_MS - 1);
    answering = true;
    expect((await measure([target(0)])).get('n0')).toBeUndefined();
    expect(pings).toHaveLength(2);
    expect((await measure([{ nodeId: 'n0', endpoint: 'n0@elsewhere:1' }])).get('n0')).toBe(7);
  });

  it('bounds the pings a burst of callers causes: one per target per fresh window, however many ask (registry.peers)', async () => {
    // What registry.peers asks for: at most MAX_PEERS_MEASURED targets, on every call.
    const targets = Array.from({ length: MAX_PEERS_MEASURED }, (_, i) => target(i));
    // 200 calls at once (a client, or an agent through the HTTP API, hammering `swarm peers`).
    await burstOf(200, targets);
    expect(pings).toHaveLength(MAX_PEERS_MEASURED);
    // Within the window more calls ping nobody; after it, each target once more.
    await measure(targets);
    expect(pings).toHaveLength(MAX_PEERS_MEASURED);
    await vt.advance(RTT_FRESH_MS);
    await burstOf(50, targets);
    expect(pings).toHaveLength(2 * MAX_PEERS_MEASURED);
    // Unreachable peers are pinged again at most once per failure window, not once per call.
    answering = false;
    await vt.advance(RTT_FRESH_MS);
    await burstOf(50, targets);
    expect(pings).toHaveLength(3 * MAX_PEERS_MEASURED);
    await burstOf(50, targets);
    expect(pings).toHaveLength(3 * MAX_PEERS_MEASURED);
  });
});
