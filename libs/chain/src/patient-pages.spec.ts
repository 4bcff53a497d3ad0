import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { ChainPage } from './audit-pages';
import { MAX_PAGE_WAIT_MS, MAX_WAITS_PER_PAGE, patientPages, UNTIMED_PAGE_WAIT_MS } from './patient-pages';

const PAGE: ChainPage = { blocks: [Uint8Array.of(1)], headSeq: 1n, nodeId: 'a'.repeat(64) };
const overloaded = (retryAfterMs: number) => new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'peer answered SWARM_OVERLOADED', true, { retryAfterMs });

/** A fetch that throws `refusals` in turn, then answers PAGE; with the waits asked of `sleep`. */
function refusing(...refusals: Error[]) {
  const waits: number[] = [];
  let calls = 0;
  const fetch = patientPages(
    () => {
      const refusal = refusals[calls];
      calls += 1;
      return refusal === undefined ? Promise.resolve(PAGE) : Promise.reject(refusal);
    },
    { sleep: (ms) => (waits.push(ms), Promise.resolve()) },
  );
  return { fetch, waits, calls: () => calls };
}

describe('chain - pages from a node that paces them', () => {
  it('waits out OVERLOADED answers as long as each says (a short wait when one says none), then hands back the page', async () => {
    const { fetch, waits } = refusing(overloaded(900), overloaded(0), overloaded(1_200));
    await expect(fetch(1n, 1_000)).resolves.toBe(PAGE);
    expect(waits).toEqual([900, UNTIMED_PAGE_WAIT_MS, 1_200]);
  });

  it('passes on other errors, a wait longer than MAX_PAGE_WAIT_MS and the refusal after MAX_WAITS_PER_PAGE waits, without waiting again', async () => {
    const other = new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'gone', true, { retryAfterMs: 10 });
    const cases: [Error[], number][] = [
      [[other], 0],
      [[overloaded(MAX_PAGE_WAIT_MS + 1)], 0],
      [Array.from({ length: MAX_WAITS_PER_PAGE + 1 }, () => overloaded(5)), MAX_WAITS_PER_PAGE],
    ];
    for (const [refusals, waited] of cases) {
      const { fetch, waits, calls } = refusing(...refusals);
      await expect(fetch(1n, 10)).rejects.toBe(refusals[refusals.length - 1]);
      expect({ waits: waits.length, calls: calls() }).toEqual({ waits: waited, calls: waited + 1 });
    }
  });

  it('stops waiting once its signal aborts, the sleep given that signal, passing on the last refusal', async () => {
    const stop = new AbortController();
    const refusal = overloaded(1_000);
    const signals: (AbortSignal | undefined)[] = [];
    const fetch = patientPages(() => Promise.reject(refusal), {
      sleep: (_ms, signal) => {
        signals.push(signal);
        stop.abort();
        return Promise.resolve();
      },
      signal: stop.signal,
    });
    await expect(fetch(1n, 10)).rejects.toBe(refusal);
    expect(signals).toEqual([stop.signal]);
  });
});
