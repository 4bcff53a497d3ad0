import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface BuildApi {
  ensureBuilt: (opts: { root: string; only?: string[] }) => { built: string[]; checked: number };
  BuildError: new (message: string) => Error;
}
// Plain JavaScript (it runs before anything is compiled), so typed here by hand.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: no types to import
const { ensureBuilt, BuildError } = require('./build') as BuildApi;

const REPO = join(__dirname, '../..');

/** A two-package workspace: `@swarm/b` imports `@swarm/a`; `a` ships a plain-JS asset. */
function workspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'swarm-build-'));
  const write = (file: string, text: string) => {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  write('package.json', JSON.stringify({ name: 'ws', private: true, workspaces: ['libs/*'] }));
  cpSync(join(REPO, '.swcrc'), join(root, '.swcrc'));
  write('libs/a/package.json', JSON.stringify({ name: '@swarm/a', main: 'src/index.ts' }));
  write('libs/a/src/index.ts', "export const answer: number = 42;\nexport { twice } from './twice';\n");
  write('libs/a/src/twice.ts', 'export function twice(n: number): number {\n  if (n < 0) throw new Error("negative");\n  return 2 * n;\n}\n');
  write('libs/a/src/index.spec.ts', 'it("is not built", () => undefined);\n');
  write('libs/a/src/worker.js', "'use strict';\nmodule.exports = 'asset';\n");
  write('libs/b/package.json', JSON.stringify({ name: '@swarm/b', main: 'src/index.ts', dependencies: { '@swarm/a': '*' } }));
  write('libs/b/src/index.ts', "import { answer, twice } from '@swarm/a';\nexport const doubled = twice(answer);\n");
  return root;
}

const run = (root: string, code: string) => execFileSync(process.execPath, ['--enable-source-maps', '-e', code], { cwd: root, encoding: 'utf8', stdio: 'pipe' });

describe('build - compile and freshness', () => {
  let root: string;
  beforeEach(() => {
    root = workspace();
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('compiles src/ to dist/ at the same depth, copies assets, leaves tests out, and resolves @swarm/* to compiled JS', () => {
    expect(ensureBuilt({ root }).built).toEqual(['libs/a', 'libs/b']);
    expect(readFileSync(join(root, 'libs/b/dist/index.js'), 'utf8')).toContain('require("../../a/dist/index.js")');
    expect(readFileSync(join(root, 'libs/a/dist/worker.js'), 'utf8')).toContain("'asset'");
    expect(existsSync(join(root, 'libs/a/dist/index.spec.js'))).toBe(false);
    // No node_modules in this workspace: only the rewritten relative require can find @swarm/a.
    expect(run(root, "console.log(require('./libs/b/dist/index.js').doubled)").trim()).toBe('84');
  });

  it('maps stack traces back to the TypeScript source', () => {
    ensureBuilt({ root });
    let stderr = '';
    try {
      run(root, "require('./libs/a/dist/twice.js').twice(-1)");
    } catch (err) {
      stderr = String((err as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(/libs\/a\/src\/twice\.ts:2/);
  });

  it('rebuilds nothing when fresh, nor for a touched file whose content is the same', () => {
    ensureBuilt({ root });
    expect(ensureBuilt({ root }).built).toEqual([]);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'libs/a/src/twice.ts'), later, later);
    expect(ensureBuilt({ root }).built).toEqual([]);
  });

  it('rebuilds a changed source even when its mtime went back in time (cp -p, tar)', () => {
    ensureBuilt({ root });
    const file = join(root, 'libs/a/src/index.ts');
    const { atime, mtime } = statSync(file);
    writeFileSync(file, "export const answer: number = 21;\nexport { twice } from './twice';\n");
    utimesSync(file, atime, new Date(mtime.getTime() - 60_000));
    expect(ensureBuilt({ root }).built).toEqual(['libs/a']);
    expect(run(root, "console.log(require('./libs/b/dist/index.js').doubled)").trim()).toBe('42');
  });

  it('drops the output of a deleted source, and rebuilds everything when packages come or go', () => {
    ensureBuilt({ root });
    rmSync(join(root, 'libs/a/src/worker.js'));
    expect(ensureBuilt({ root }).built).toEqual(['libs/a']);
    expect(existsSync(join(root, 'libs/a/dist/worker.js'))).toBe(false);
    mkdirSync(join(root, 'libs/c/src'), { recursive: true });
    writeFileSync(join(root, 'libs/c/package.json'), JSON.stringify({ name: '@swarm/c', main: 'src/index.ts' }));
    writeFileSync(join(root, 'libs/c/src/index.ts'), 'export const c = 1;\n');
    expect(ensureBuilt({ root }).built).toEqual(['libs/a', 'libs/b', 'libs/c']);
  });

  it('fails with the file on a syntax error, and stays stale until it compiles', () => {
    ensureBuilt({ root });
    writeFileSync(join(root, 'libs/a/src/twice.ts'), 'export function twice(n: number {\n');
    expect(() => ensureBuilt({ root })).toThrow(BuildError);
    expect(() => ensureBuilt({ root })).toThrow(/libs\/a\/src\/twice\.ts/);
  });

  it('refuses an import of a package that has no entry', () => {
    writeFileSync(join(root, 'libs/b/src/index.ts'), "import { x } from '@swarm/nowhere';\nexport const y = x;\n");
    expect(() => ensureBuilt({ root })).toThrow(/requires '@swarm\/nowhere'/);
  });
});
