import type { BusClient } from '@swarm/bus';
import { CreditStanding, ErrorCode, SwarmError } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import { createPeerStanding, STANDING_FRESH_MS } from './peer-standing';

/** A bus whose ledger answers `earned` for every node (or fails while `down`), counting questions. */
function ledgerBus(earned: bigint) {
  const state = { asked: 0, down: false };
  const bus: BusClient = {
    request: async (rpc, req) => {
      if (rpc.subject !== CreditStanding.subject) throw new Error(`unexpected ${rpc.subject}`);
      state.asked += 1;
      if (state.down) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no credit-svc is serving', true);
      return { nodeId: (req as { nodeId: string }).nodeId, earnedInWindow: earned, windowMs: 3_600_000n } as never;
    },
    requestAcked: () => Promise.reject(new Error('not used')),
    publish: () => undefined,
    subscribe: () => {
      throw new Error('not used');
    },
  };
  return { bus, state };
}

describe('gateway-svc - peer standing', () => {
  it('asks the ledger once per STANDING_FRESH_MS per peer, concurrent askers sharing one request', async () => {
    const stopwatch = manualClock(0);
    const { bus, state } = ledgerBus(42n);
    const standing = createPeerStanding(bus, stopwatch, silentLogger());
    await expect(Promise.all([standing.of('peer-a'), standing.of('peer-a')])).resolves.toEqual([42n, 42n]);
    stopwatch.advance(STANDING_FRESH_MS - 1);
    await standing.of('peer-a');
    expect(state.asked).toBe(1);
    await standing.of('peer-b');
    stopwatch.advance(1);
    await standing.of('peer-a');
    expect(state.asked).toBe(3);
  });

  it('counts a peer as standing 0 while the ledger cannot answer, never failing the task', async () => {
    const stopwatch = manualClock(0);
    const { bus, state } = ledgerBus(42n);
    state.down = true;
    const standing = createPeerStanding(bus, stopwatch, silentLogger());
    await expect(standing.of('peer-a')).resolves.toBe(0n);
    // Kept as briefly as an answer, so a down ledger is not asked per task.
    await expect(standing.of('peer-a')).resolves.toBe(0n);
    expect(state.asked).toBe(1);
    state.down = false;
    stopwatch.advance(STANDING_FRESH_MS);
    await expect(standing.of('peer-a')).resolves.toBe(42n);
  });
});
