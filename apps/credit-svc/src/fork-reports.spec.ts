import type { ForkProof } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import { FORK_REPORT_RETRY_MS, startForkReports } from './fork-reports';

const proofOf = (n: number): ForkProof => ({ first: { block: new Uint8Array([n]), signature: new Uint8Array(64) }, second: undefined });
const settle = () => new Promise((r) => setImmediate(r));

describe('fork reports - a proof reaches the router, however long it is away', () => {
  it('sends each proof once it is found, again every retry while the router does not take it, and no more once it has', async () => {
    const time = virtualTime(0);
    const sent: number[] = [];
    let routerUp = false;
    const reports = startForkReports({
      report: async (proof) => {
        sent.push(proof.first?.block[0] ?? -1);
        if (!routerUp) throw new Error('no router (test)');
      },
      scheduler: time.scheduler,
      log: silentLogger(),
    });
    reports.add('a', proofOf(1));
    reports.add('a', proofOf(1));
    await settle();
    expect({ sent, pending: reports.pending() }).toEqual({ sent: [1], pending: 1 });
    await time.advance(FORK_REPORT_RETRY_MS);
    await settle();
    expect(sent).toEqual([1, 1]);
    routerUp = true;
    reports.add('b', proofOf(2));
    await settle();
    await time.advance(FORK_REPORT_RETRY_MS);
    await settle();
    expect({ sent, pending: reports.pending() }).toEqual({ sent: [1, 1, 2, 1], pending: 0 });
    // Taken: nothing is sent again.
    await time.advance(10 * FORK_REPORT_RETRY_MS);
    await settle();
    expect(sent).toEqual([1, 1, 2, 1]);
    reports.stop();
  });

  it('sends nothing after stop', async () => {
    const time = virtualTime(0);
    let calls = 0;
    const reports = startForkReports({
      report: async () => {
        calls += 1;
        throw new Error('no router (test)');
      },
      scheduler: time.scheduler,
      log: silentLogger(),
    });
    reports.add('a', proofOf(1));
    await settle();
    reports.stop();
    await time.advance(10 * FORK_REPORT_RETRY_MS);
    await settle();
    expect(calls).toBe(1);
  });
});
