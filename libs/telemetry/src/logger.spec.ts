import { Writable } from 'node:stream';
import { capForLog, createLogger, MAX_LOG_LINE_CHARS, MAX_LOG_STRING_CHARS } from './logger';

/** A pino destination that keeps every line (pinojs/pino test/helper.js does the same). */
function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines };
}

const HUGE = 'x'.repeat(4 * 1024 * 1024);

describe('logger - untrusted strings', () => {
  it('caps a string to its head and its length', () => {
    expect(capForLog('short')).toBe('short');
    const capped = capForLog(HUGE);
    expect(capped.length).toBeLessThan(MAX_LOG_STRING_CHARS + 32);
    expect(capped).toMatch(/^x+…\[4194304 chars\]$/);
  });

  it('writes a bounded line for a 4 MB field, a 4 MB error message and a 4 MB message', () => {
    const { stream, lines } = sink();
    const log = createLogger({ service: 'test', destination: stream });
    const err = new Error(`unknown skill '${HUGE}'`);
    log.info({ skill: HUGE, nested: { deeper: [HUGE, HUGE] }, data: new Uint8Array(1 << 20) }, 'task failed');
    log.info({ err }, 'task failed');
    log.warn(HUGE);
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.length).toBeLessThan(8 * 1024);
    const [fields, failed, warned] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(fields).toMatchObject({ msg: 'task failed', skill: expect.stringMatching(/…\[4194304 chars\]$/), data: '[Uint8Array of 1048576 bytes]' });
    expect(failed).toMatchObject({ err: { type: 'Error', message: expect.stringMatching(/^unknown skill 'x+…\[/) } });
    expect(warned).toMatchObject({ level: 40, msg: expect.stringMatching(/…\[4194304 chars\]$/) });
  });

  it('replaces a line that escaped the field caps (a child binding) with a short notice', () => {
    const { stream, lines } = sink();
    createLogger({ service: 'test', destination: stream }).child({ skill: HUGE }).error('task failed');
    expect(lines).toHaveLength(1);
    expect(lines[0].length).toBeLessThan(MAX_LOG_LINE_CHARS);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 50, msg: 'log line cut', chars: expect.any(Number) });
  });

  it('leaves ordinary lines and the caller objects as they were', () => {
    const { stream, lines } = sink();
    const fields = { taskId: 't1', cost: '12', list: [1, 2, 3] };
    createLogger({ service: 'test', nodeId: 'n1', destination: stream }).child({ taskId: 't1' }).info(fields, 'task done');
    expect(JSON.parse(lines[0])).toMatchObject({ service: 'test', nodeId: 'n1', taskId: 't1', cost: '12', list: [1, 2, 3], msg: 'task done' });
    expect(fields).toEqual({ taskId: 't1', cost: '12', list: [1, 2, 3] });
  });
});
