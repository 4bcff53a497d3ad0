/**
 * The OpenTelemetry context manager this project installs: `context.with(ctx, fn)` makes `ctx`
 * active for fn's synchronous run only, and nothing follows promises, timers or callbacks. Trace
 * context is passed by hand instead: a bus or peer handler gets its request's context
 * (`HandlerContext.trace`, `PeerCall.trace`) and hands it to the requests it makes (`trace` option).
 * Node 20's AsyncLocalStorage manager made every promise of a traced service pay a hook, sampled or
 * not, and that was most of what tracing cost (issue 12: 2.25–2.90 CPU-ms per task traced at 1%,
 * 1.65–2.10 with no context kept, 1.77–1.80 untraced).
 */
import type { Context, ContextManager } from '@opentelemetry/api';
import { ROOT_CONTEXT } from '@opentelemetry/api';

export class ExplicitContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const previous = this.current;
    this.current = ctx;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(ctx, fn, undefined, ...args)) as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}
