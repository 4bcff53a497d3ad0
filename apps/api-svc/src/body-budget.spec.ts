import { ErrorCode } from '@swarm/contracts';
import { createBodyBudget, declaredBodyBytes } from './body-budget';

describe('body budget - request bytes held at once', () => {
  it('refuses past the budget, and past one agent share (a quarter, at least two largest bodies)', () => {
    expect(() => createBodyBudget(100, 40).take('a', 80)).not.toThrow();
    const budget = createBodyBudget(100, 10);
    budget.take('a', 20);
    budget.take('a', 5);
    expect(() => budget.take('a', 1)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, message: expect.stringMatching(/this agent/) }));
    for (const agent of ['b', 'c', 'd']) budget.take(agent, 25);
    expect(budget.inUse()).toBe(100);
    expect(() => budget.take('e', 1)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_OVERLOADED, message: expect.stringMatching(/this node's API/) }));
  });

  it('gives the bytes back once every holder let go, and only once', async () => {
    const budget = createBodyBudget(100, 50);
    const hold = budget.take('a', 40);
    let end = () => undefined as void;
    hold.alsoUntil(new Promise<void>((r) => (end = r)));
    hold.release();
    hold.release();
    expect(budget.inUse()).toBe(40);
    end();
    await Promise.resolve();
    await Promise.resolve();
    expect(budget.inUse()).toBe(0);
    // A task that fails lets go too; nothing is given back twice.
    const again = budget.take('a', 30);
    again.alsoUntil(Promise.reject(new Error('task failed')));
    again.release();
    await new Promise((r) => setImmediate(r));
    expect(budget.inUse()).toBe(0);
    budget.take('a', 50);
    expect(budget.inUse()).toBe(50);
  });

  it('takes the declared length, nothing for no body, or the limit for a chunked body or a length that is no number', () => {
    expect(declaredBodyBytes('123', undefined, 1_000)).toBe(123);
    expect(declaredBodyBytes('5000', undefined, 1_000)).toBe(1_000);
    expect(declaredBodyBytes(undefined, undefined, 1_000)).toBe(0);
    expect(declaredBodyBytes(undefined, 'chunked', 1_000)).toBe(1_000);
    expect(['', '-1', '1e3', '12a', '9'.repeat(20)].map((v) => declaredBodyBytes(v, undefined, 1_000))).toEqual([1_000, 1_000, 1_000, 1_000, 1_000]);
  });
});
