import { existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/** Where tools/scripts/build.js puts a project's compiled `src/`: beside it, at the same depth. */
const SRC_DIR = 'src';
const OUT_DIR = 'dist';

/**
 * `<project>/src/a/b.ts` → `<project>/dist/a/b.js`, the compiled JavaScript `swarm` and the tests
 * run (no TypeScript loader at run time). `projectDir` is the project holding the entry.
 */
export function compiledPath(projectDir: string, sourceEntry: string): string {
  const rel = relative(join(projectDir, SRC_DIR), resolve(projectDir, sourceEntry));
  if (rel.startsWith('..') || !rel.endsWith('.ts')) throw new Error(`${sourceEntry} is not a TypeScript file under ${join(projectDir, SRC_DIR)}`);
  return join(projectDir, OUT_DIR, ...rel.slice(0, -'.ts'.length).split(sep)) + '.js';
}

/**
 * Node arguments that run a project's entry point (e.g. `src/main.ts`) from its compiled JavaScript.
 * `swarm` and the tests build before they spawn. No `--enable-source-maps`: Node 20 reads and parses
 * the map of every module it loads (dependencies' too), 0.45 CPU-s of a node's ~4.5 s start; stack
 * traces name the compiled lines, which swc keeps close to the source. NODE_OPTIONS=--enable-source-maps
 * (passed on to every service) maps them to the TypeScript when that is worth the cost.
 */
export function compiledNodeArgs(projectDir: string, sourceEntry: string): string[] {
  const file = compiledPath(projectDir, sourceEntry);
  if (!existsSync(file)) throw new Error(`${file} is missing: build first (npm run build)`);
  return [file];
}
