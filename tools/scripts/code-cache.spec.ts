import { compileFunction, createContext } from 'node:vm';

type CompileOptions = Parameters<typeof compileFunction>[2];
/** What the sources here compile to: a function of one number. */
type Compile = ((code: string, params: string[], options?: CompileOptions) => (a: number) => number) & { counts: { hits: number; misses: number; rejected: number } };
// Plain JavaScript (jest.config.js's runtime loads it by path), so typed here by hand.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: no types to import
const { withCodeCache } = require('./code-cache') as { withCodeCache: (f: typeof compileFunction) => Compile };

describe("jest workers' code cache (tools/scripts/code-cache.js)", () => {
  const SOURCE = 'const twice = (x) => 2 * x; return twice(a) + 1;';

  it('starts a second compile of the same file and source from the first one’s cache, and runs the same code', () => {
    const compile = withCodeCache(compileFunction);
    const first = compile(SOURCE, ['a'], { filename: '/x/one.js', parsingContext: createContext({}) });
    const second = compile(SOURCE, ['a'], { filename: '/x/one.js', parsingContext: createContext({}) });
    expect([first(20), second(20)]).toEqual([41, 41]);
    expect(compile.counts).toEqual({ hits: 1, misses: 1, rejected: 0 });
  });

  it('never runs old code for a changed source: another source under one file name is compiled afresh, and kept instead', () => {
    const compile = withCodeCache(compileFunction);
    expect(compile(SOURCE, ['a'], { filename: '/x/one.js' })(1)).toBe(3);
    const changed = SOURCE.replace('+ 1', '+ 100');
    expect(compile(changed, ['a'], { filename: '/x/one.js' })(1)).toBe(102);
    expect(compile(changed, ['a'], { filename: '/x/one.js' })(1)).toBe(102);
    expect(compile(SOURCE, ['a'], { filename: '/x/two.js' })(1)).toBe(3);
    expect(compile.counts).toEqual({ hits: 1, misses: 3, rejected: 0 });
  });

  it('compiles afresh where V8 rejects the cache, and passes through calls with cache options of their own or no file name', () => {
    const seen: unknown[] = [];
    const recording = ((code: string, params: string[], options?: Parameters<typeof compileFunction>[2]) => {
      seen.push(options);
      const fn = compileFunction(code, params, options);
      // V8 rejects a cache made by another V8 version or flags: as if it did here.
      if (options?.cachedData !== undefined) Object.defineProperty(fn, 'cachedDataRejected', { value: true });
      return fn;
    }) as typeof compileFunction;
    const compile = withCodeCache(recording);
    compile(SOURCE, ['a'], { filename: '/x/one.js' });
    expect(compile(SOURCE, ['a'], { filename: '/x/one.js' })(2)).toBe(5);
    expect(compile.counts).toEqual({ hits: 0, misses: 2, rejected: 1 });
    compile(SOURCE, ['a']);
    compile(SOURCE, ['a'], { filename: '/x/one.js', produceCachedData: false });
    expect(seen.slice(-2)).toEqual([undefined, { filename: '/x/one.js', produceCachedData: false }]);
    expect(compile.counts.misses).toBe(2);
  });
  // helper-169: V8 takes a cache whatever the parameters, offsets or extensions of its compile were.
  it('runs the parameters, line offset and context extensions each compile asks for, not the first compile’s', () => {
    const compile = withCodeCache(compileFunction);
    const BOTH = 'return (typeof a) + "/" + (typeof b) + "/" + (typeof x);';
    const typesOf = (params: string[], options: CompileOptions) => (compile(BOTH, params, options) as unknown as (v: number) => string)(1);
    expect(typesOf(['a'], { filename: '/x/one.js' })).toBe('number/undefined/undefined');
    expect(typesOf(['b'], { filename: '/x/one.js' })).toBe('undefined/number/undefined');
    expect(typesOf(['b'], { filename: '/x/one.js', contextExtensions: [{ x: 42 }] })).toBe('undefined/number/number');
    const THROWS = 'throw new Error("boom");';
    const lineOf = (fn: (a: number) => number) => {
      try {
        fn(0);
      } catch (err) {
        return /:(\d+):\d+\)?$/.exec((err as Error).stack?.split('\n')[1] ?? '')?.[1];
      }
      return undefined;
    };
    expect(lineOf(compile(THROWS, [], { filename: '/x/two.js' }))).toBe('1');
    expect(lineOf(compile(THROWS, [], { filename: '/x/two.js', lineOffset: 10 }))).toBe('11');
    expect(lineOf(compile(THROWS, [], { filename: '/x/two.js', lineOffset: 10 }))).toBe('11');
    expect(compile.counts.hits).toBe(1);
  });

  it('never caches a source that may call import(): a cached function would call the first compile’s dynamic import hook, gone', async () => {
    const compile = withCodeCache(compileFunction);
    // With a space and a comment before the parenthesis, as a resolver reads it too (helper-172).
    const SOURCE = 'return import /* lazily */ ("node:os").then(() => "imported", (e) => e.code ?? e.message);';
    const hook = (seen: string[], tag: string) => (() => (seen.push(tag), Promise.reject(Object.assign(new Error(tag), { code: tag })))) as never;
    const run = (fn: unknown) => (fn as () => Promise<string>)();
    // What an uncached compile does with its own hook (without --experimental-vm-modules Node calls none, and says so).
    const plainSeen: string[] = [];
    const expected = await run(compileFunction(SOURCE, [], { filename: '/x/plain.js', importModuleDynamically: hook(plainSeen, 'second') }));
    const seen: string[] = [];
    await run(compile(SOURCE, [], { filename: '/x/import.js', importModuleDynamically: hook([], 'first') }));
    const second = await run(compile(SOURCE, [], { filename: '/x/import.js', importModuleDynamically: hook(seen, 'second') }));
    expect([second, seen]).toEqual([expected, plainSeen]);
    expect(compile.counts).toEqual({ hits: 0, misses: 0, rejected: 0 });
  });
});
