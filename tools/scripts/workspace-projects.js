// The workspace's projects, read from the root package.json `workspaces` globs (`libs/*`, …), so a
// new package is built, tested and mapped as soon as it has a package.json. Shared by the build,
// jest's module map and the Nx plugin; plain JavaScript because it runs before anything is compiled.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
/** Sources live in `<project>/src`, compiled output in `<project>/dist` at the same depth. */
const SRC_DIR = 'src';
const OUT_DIR = 'dist';

/**
 * @typedef {{ name: string, root: string, dir: string, main: string | undefined, deps: string[] }} Project
 * root: relative to the repo, posix; dir: absolute; main: the package's entry source, relative to dir.
 */

/** @returns {Project[]} sorted by root */
function workspaceProjects(root = ROOT) {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const projects = [];
  for (const glob of manifest.workspaces ?? []) {
    // Only `<folder>/*` is used here; anything richer would need a glob library at start-up.
    const m = /^([\w.-]+)\/\*$/.exec(glob);
    if (!m) throw new Error(`package.json workspaces: expected '<folder>/*', got '${glob}'`);
    const parent = path.join(root, m[1]);
    if (!fs.existsSync(parent)) continue;
    for (const entry of fs.readdirSync(parent, { withFileTypes: true })) {
      const dir = path.join(parent, entry.name);
      const file = path.join(dir, 'package.json');
      if (!entry.isDirectory() || !fs.existsSync(file)) continue;
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (typeof pkg.name !== 'string') throw new Error(`${path.relative(root, file)}: no "name"`);
      projects.push({
        name: pkg.name,
        root: `${m[1]}/${entry.name}`,
        dir,
        main: typeof pkg.main === 'string' ? path.normalize(pkg.main) : undefined,
        deps: Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => d.startsWith('@swarm/')),
      });
    }
  }
  return projects.sort((a, b) => a.root.localeCompare(b.root));
}

/** `<project>/src/a/b.ts` → `<project>/dist/a/b.js`; undefined outside a project's `src/`. */
function compiledPathOf(sourceFile, root = ROOT) {
  // Every workspace glob is `<folder>/*`, so a project's src/ is the third segment.
  const parts = path.relative(root, path.resolve(sourceFile)).split(path.sep);
  if (parts.length < 4 || parts[0] === '..' || parts[2] !== SRC_DIR) return undefined;
  parts[2] = OUT_DIR;
  return path.join(root, ...parts).replace(/\.ts$/, '.js');
}

module.exports = { ROOT, SRC_DIR, OUT_DIR, workspaceProjects, compiledPathOf };
