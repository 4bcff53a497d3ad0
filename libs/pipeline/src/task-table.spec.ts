import { ErrorCode, SwarmError } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import { createTaskTable, keyedTaskId } from './task-table';

const LIMITS = { retentionMs: 60_000, maxEntries: 3, maxResultBytes: 100 };
const paid = (result?: string, resultBytes = 0) => ({ state: 'paid' as const, cost: 5n, refunded: 0n, providerId: 'node-a', attempts: 1, note: '', result, resultBytes });

describe('task table - keyed task ids', () => {
  it('derives the same id from the same account and key, and different ids otherwise', () => {
    expect(keyedTaskId('acct', 'k1')).toBe(keyedTaskId('acct', 'k1'));
    expect(keyedTaskId('acct', 'k1')).toMatch(/^task-[0-9a-f]{32}$/);
    expect(keyedTaskId('acct', 'k2')).not.toBe(keyedTaskId('acct', 'k1'));
    expect(keyedTaskId('acct2', 'k1')).not.toBe(keyedTaskId('acct', 'k1'));
    // The separator keeps account/key boundaries apart.
    expect(keyedTaskId('ab', 'c')).not.toBe(keyedTaskId('a', 'bc'));
  });
});

describe('task table - records', () => {
  it('records a running task, then how it ended', async () => {
    const table = createTaskTable<string>(LIMITS, manualClock(0));
    const r = table.begin('t1', 'k', Promise.resolve());
    expect(r.state).toBe('running');
    table.finish('t1', paid('result', 6));
    expect(table.get('t1')).toMatchObject({ state: 'paid', cost: 5n, result: 'result', running: undefined, paidTo: [], placementNote: '' });
    expect(table.resultBytes()).toBe(6);
  });

  it('keeps who was paid and why it ran where it did, after the result itself is dropped', () => {
    const table = createTaskTable<string>(LIMITS, manualClock(0));
    table.begin('t1', 'k', Promise.resolve());
    const paidTo = [
      { providerId: 'node-a', paid: 3n },
      { providerId: 'node-b', paid: 2n },
    ];
    // Over the results' byte bound: the result is not kept, the rest of the record is.
    table.finish('t1', { ...paid('result', 500), paidTo, placementNote: 'here only' });
    expect(table.get('t1')).toMatchObject({ result: undefined, paidTo, placementNote: 'here only' });
  });

  it('keeps the paying account of a task through its end, and of a refusal', () => {
    const table = createTaskTable<string>(LIMITS, manualClock(0));
    table.begin('t1', 'k', Promise.resolve(), 'fp', 'agent/bot');
    table.finish('t1', paid('result', 6));
    expect(table.get('t1')).toMatchObject({ state: 'paid', account: 'agent/bot', fingerprint: 'fp' });
    table.reject('t2', 'k2', new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_SKILL, 'no such skill'), false, 'agent/other');
    expect(table.get('t2')).toMatchObject({ state: 'rejected', account: 'agent/other' });
    expect(table.begin('t3', '', Promise.resolve()).account).toBe('');
  });

  it('forgets finished tasks after the retention window, never running ones', () => {
    const clock = manualClock(0);
    const table = createTaskTable<string>(LIMITS, clock);
    table.begin('t1', '', Promise.resolve());
    table.finish('t1', paid('r', 1));
    table.begin('t2', '', Promise.resolve());
    clock.advance(60_001);
    expect(table.get('t1')).toBeUndefined();
    expect(table.get('t2')).toMatchObject({ state: 'running' });
    expect(table.resultBytes()).toBe(0);
  });

  it('expires in the order tasks finished, past a long-running task begun before them', () => {
    const clock = manualClock(0);
    const table = createTaskTable<string>({ ...LIMITS, maxEntries: 1000, maxResultBytes: 10_000 }, clock);
    table.begin('long', '', Promise.resolve());
    // Begun in one order, finished in the reverse one, a second apart each.
    for (let i = 0; i < 10; i++) table.begin(`t${i}`, '', Promise.resolve());
    for (let i = 9; i >= 0; i--) {
      table.finish(`t${i}`, paid('r', 1));
      clock.advance(1_000);
    }
    // t9 finished first (at 0 s), t0 last (at 9 s); at 64.5 s t9..t5 are past retention.
    clock.advance(54_500);
    expect([...Array(10).keys()].filter((i) => table.get(`t${i}`) !== undefined)).toEqual([0, 1, 2, 3, 4]);
    expect(table.get('long')).toMatchObject({ state: 'running' });
    expect(table.resultBytes()).toBe(5);
  });

  it('keeps refusals to a tenth of the table, so a flood of them never pushes out tasks that ran', () => {
    const table = createTaskTable<string>({ ...LIMITS, maxEntries: 30 }, manualClock(0));
    for (const id of ['a', 'b', 'c']) {
      table.begin(id, id, Promise.resolve());
      table.finish(id, paid('result', 6));
    }
    const refused = new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_SKILL, 'no such skill');
    for (let i = 0; i < 1_000; i++) table.reject(`r${i}`, `k${i}`, refused);
    expect(table.size()).toBe(3 + 3);
    for (const id of ['a', 'b', 'c']) expect(table.get(id)?.result).toBe('result');
    expect(table.get('r999')?.state).toBe('rejected');
    expect(table.get('r0')).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest finished first', () => {
    const table = createTaskTable<string>(LIMITS, manualClock(0));
    table.begin('run', '', Promise.resolve());
    for (const id of ['a', 'b', 'c']) {
      table.begin(id, '', Promise.resolve());
      table.finish(id, paid());
    }
    expect(table.size()).toBe(3);
    expect(table.get('run')).toBeDefined();
    expect(table.get('a')).toBeUndefined();
    expect(table.get('c')).toBeDefined();
  });

  it('keeps results within maxResultBytes, dropping the oldest results but keeping their records', () => {
    const table = createTaskTable<string>(LIMITS, manualClock(0));
    table.begin('a', '', Promise.resolve());
    table.finish('a', paid('a', 60));
    table.begin('b', '', Promise.resolve());
    table.finish('b', paid('b', 60));
    expect(table.get('a')).toMatchObject({ state: 'paid', result: undefined });
    expect(table.get('b')).toMatchObject({ result: 'b' });
    expect(table.resultBytes()).toBe(60);
    table.begin('c', '', Promise.resolve());
    table.finish('c', paid('c', 101));
    expect(table.get('c')).toMatchObject({ state: 'paid', result: undefined });
  });

  it('records a refusal, which a later run of the same key replaces, but never overwrites a task that ran', () => {
    const table = createTaskTable<string>(LIMITS, manualClock(0));
    const busy = new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy', true);
    table.reject('t1', 'k', busy);
    expect(table.get('t1')).toMatchObject({ state: 'rejected', error: busy });
    table.begin('t1', 'k', Promise.resolve());
    table.finish('t1', paid());
    table.reject('t1', 'k', busy);
    expect(table.get('t1')).toMatchObject({ state: 'paid' });
  });
});
