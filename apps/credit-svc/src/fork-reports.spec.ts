import type { ForkProof } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import { FORK_REPORT_RETRY_MS, FORK_REPORTS_IN_FLIGHT, startForkReports } from './fork-reports';

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

  it('sends at most FORK_REPORTS_IN_FLIGHT at once, and drops a proof the router refuses as such', async () => {
    const time = virtualTime(0);
    const answers: Array<(err?: Error) => void> = [];
    const sent: number[] = [];
    const reports = startForkReports({
      report: (proof) => {
        sent.push(proof.first?.block[0] ?? -1);
        return new Promise<void>((resolve, reject) => answers.push((err) => (err ? reject(err) : resolve())));
      },
      scheduler: time.scheduler,
      log: silentLogger(),
    });
    for (let i = 0; i < 20; i += 1) reports.add(`p${i}`, proofOf(i));
    await settle();
    expect(sent.length).toBe(FORK_REPORTS_IN_FLIGHT);
    // The router refuses the first as no proof (not retryable): dropped; the next one goes out.
    answers[0](new SwarmError(ErrorCode.ERROR_CODE_INVALID_CHAIN, 'not a fork (test)', false));
    await settle();
    expect({ sent: sent.length, pending: reports.pending() }).toEqual({ sent: FORK_REPORTS_IN_FLIGHT + 1, pending: 19 });
    for (let i = 1; i < answers.length; i += 1) answers[i]();
    for (let round = 0; round < 5; round += 1) {
      await settle();
      for (let i = 0; i < answers.length; i += 1) answers[i]();
    }
    await settle();
    expect({ sent: sent.length, pending: reports.pending() }).toEqual({ sent: 20, pending: 0 });
    reports.stop();
  });
});
