import { lastReadableLines } from './log-lines';

describe('node - a service log quoted in a start failure', () => {
  it('shows pino lines as level, message and error message, each distinct line once, the last ones', () => {
    const busy = JSON.stringify({
      level: 50,
      time: 1,
      pid: 7,
      service: 'api-svc',
      err: { type: 'Error', message: 'listen EADDRINUSE: address already in use 127.0.0.1:39295', stack: 'Error: …\n at …' },
      msg: 'api-svc failed to start',
    });
    const starting = JSON.stringify({ level: 30, time: 1, msg: 'api-svc starting' });
    const lines = [starting, busy, starting, busy, starting, busy, 'a plain line', ''];
    expect(lastReadableLines(lines, 5)).toEqual([
      'info: api-svc starting',
      'error: api-svc failed to start: listen EADDRINUSE: address already in use 127.0.0.1:39295',
      'a plain line',
    ]);
    expect(lastReadableLines(lines, 1)).toEqual(['a plain line']);
  });

  it('keeps what is not a pino line as it is, bounded', () => {
    expect(lastReadableLines(['{"no":"msg"}', '42', 'x'.repeat(1_000)], 5)).toEqual(['{"no":"msg"}', '42', 'x'.repeat(300)]);
  });
});
