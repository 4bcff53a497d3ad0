import { join } from 'node:path';
import { compiledNodeArgs, compiledPath } from './compiled-entry';

describe('compiled entry - where a service runs from', () => {
  it('maps a source under src/ to its compiled file under dist/ at the same depth', () => {
    expect(compiledPath('/repo/apps/credit-svc', 'src/main.ts')).toBe('/repo/apps/credit-svc/dist/main.js');
    expect(compiledPath('/repo/tools/e2e', '/repo/tools/e2e/src/deep/probe.ts')).toBe('/repo/tools/e2e/dist/deep/probe.js');
  });

  it('refuses a file outside the project src/ or not TypeScript', () => {
    expect(() => compiledPath('/repo/apps/cli', 'bin/swarm.ts')).toThrow(/not a TypeScript file under/);
    expect(() => compiledPath('/repo/apps/cli', 'src/worker.js')).toThrow(/not a TypeScript file under/);
  });

  it('runs the compiled file (no source maps: NODE_OPTIONS turns them on), and says to build when it is missing', () => {
    const repo = join(__dirname, '../../..');
    // jest's global setup built the repo, so this package's own compiled index exists.
    expect(compiledNodeArgs(join(repo, 'libs/runtime'), 'src/index.ts')).toEqual([join(repo, 'libs/runtime/dist/index.js')]);
    expect(() => compiledNodeArgs(join(repo, 'libs/runtime'), 'src/no-such-entry.ts')).toThrow(/missing: build first/);
  });
});
