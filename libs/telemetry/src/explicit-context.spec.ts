import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { ExplicitContextManager } from './explicit-context';

const KEY = createContextKey('test');
const withValue = (v: string) => ROOT_CONTEXT.setValue(KEY, v);
const valueIn = (m: ExplicitContextManager) => m.active().getValue(KEY);

describe('ExplicitContextManager - context for the synchronous run only', () => {
  it('makes a context active inside with(), nested, and restores the outer one after, also on a throw', () => {
    const m = new ExplicitContextManager();
    expect(m.active()).toBe(ROOT_CONTEXT);
    const seen = m.with(withValue('outer'), () => {
      const inner = m.with(withValue('inner'), () => valueIn(m));
      return [valueIn(m), inner];
    });
    expect(seen).toEqual(['outer', 'inner']);
    expect(() =>
      m.with(withValue('thrown'), () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(m.active()).toBe(ROOT_CONTEXT);
  });

  it('passes thisArg and arguments through, and keeps nothing across an await', async () => {
    const m = new ExplicitContextManager();
    const target = { n: 2 };
    expect(
      m.with(
        withValue('x'),
        function (this: typeof target, a: number) {
          return this.n * a;
        },
        target,
        21,
      ),
    ).toBe(42);
    const after = await m.with(withValue('async'), async () => {
      const before = valueIn(m);
      await Promise.resolve();
      return [before, valueIn(m)];
    });
    // Work after an await is in no context: callers pass trace context explicitly (bus handlers' ctx.trace).
    expect(after).toEqual(['async', undefined]);
  });

  it('binds a function to a context, leaves other values alone, and disable() drops the active context', () => {
    const m = new ExplicitContextManager();
    const bound = m.bind(withValue('bound'), (suffix: string) => `${String(valueIn(m))}${suffix}`);
    expect(bound('!')).toBe('bound!');
    expect(m.active()).toBe(ROOT_CONTEXT);
    const plain = { a: 1 };
    expect(m.bind(withValue('x'), plain)).toBe(plain);
    m.with(withValue('y'), () => {
      m.disable();
      expect(m.active()).toBe(ROOT_CONTEXT);
    });
    expect(m.enable()).toBe(m);
  });
});
