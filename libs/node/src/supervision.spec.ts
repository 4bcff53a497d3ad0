import { createSupervisionRecord } from './supervision';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function clockAt(start: number) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('supervision - the report swarm health shows', () => {
  it('counts a restart, keeps the last exit once the process runs again, and names the new pid', () => {
    const clock = clockAt(T0);
    const record = createSupervisionRecord(clock.now);
    record.started('router-svc', 100);
    clock.advance(1_000);
    record.exited('router-svc', { code: null, signal: 'SIGKILL', restarting: true, crashLoop: false, delayMs: 500 });
    expect(record.report()['router-svc']).toEqual({
      state: 'restarting',
      restarts: 1,
      lastExit: { code: null, signal: 'SIGKILL', at: '2026-01-01T00:00:01.000Z' },
      nextRestartAt: '2026-01-01T00:00:01.500Z',
    });
    record.started('router-svc', 101);
    expect(record.report()['router-svc']).toEqual({ state: 'running', pid: 101, restarts: 1, lastExit: { code: null, signal: 'SIGKILL', at: '2026-01-01T00:00:01.000Z' } });
  });

  it('reports a crash loop, and a configuration error as stopped without counting a restart', () => {
    const record = createSupervisionRecord(() => T0);
    record.exited('gateway-svc', { code: 1, signal: null, restarting: true, crashLoop: true, delayMs: 4_000 });
    expect(record.report()['gateway-svc']).toMatchObject({ state: 'crash-looping', restarts: 1, nextRestartAt: '2026-01-01T00:00:04.000Z' });
    record.exited('credit-svc', { code: 78, signal: null, restarting: false, crashLoop: false, delayMs: 500 });
    expect(record.report()['credit-svc']).toEqual({ state: 'stopped', restarts: 0, lastExit: { code: 78, signal: null, at: '2026-01-01T00:00:00.000Z' } });
  });

  it('follows nats-server through an exit and its restart on the same port', () => {
    const record = createSupervisionRecord(() => T0);
    record.started('nats-server', 7);
    record.busExited(null);
    expect(record.report()['nats-server']).toEqual({ state: 'restarting', restarts: 0, lastExit: { code: null, signal: null, at: '2026-01-01T00:00:00.000Z' } });
    record.busRestarted(8, 1);
    expect(record.report()['nats-server']).toMatchObject({ state: 'running', pid: 8, restarts: 1 });
  });

  it('hands out copies: a report kept by the caller does not change under it', () => {
    const record = createSupervisionRecord(() => T0);
    record.started('credit-svc', 1);
    const kept = record.report();
    record.started('credit-svc', 2);
    expect(kept['credit-svc']?.pid).toBe(1);
  });
});
