#!/usr/bin/env node
// Compiles every workspace project's `src/` to JavaScript in `<project>/dist` (same depth, so
// `__dirname`-relative paths hold) with swc: transpile only, ~1 s for the repo; `tsc --noEmit` in
// `npm test` and the typecheck targets does the type checking. Source maps point back to the .ts.
// `@swarm/<pkg>` requires become relative paths to that package's compiled entry, so run time never
// resolves a workspace package through its package.json `main` (the TypeScript source, which tsc
// and jest use). Other files in src/ (the gpu.js worker entry) are copied. Only stale projects are
// rebuilt (build-freshness.js); a project is compiled into a fresh folder and swapped in whole.
//   node tools/scripts/build.js                      every stale project
//   node tools/scripts/build.js --project libs/bus   one project (root or package name)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, SRC_DIR, OUT_DIR, workspaceProjects } = require('./workspace-projects');
const freshness = require('./build-freshness');

const LOCK_WAIT_MS = 120_000;
const LOCK_POLL_MS = 50;
const SWARM_REQUIRE = /\brequire\((["'])(@swarm\/[^"']+)\1\)/g;

class BuildError extends Error {}

/** Absolute path of each package's compiled entry, by package name. */
function compiledMains(projects) {
  const mains = new Map();
  for (const p of projects) {
    if (!p.main) continue;
    const parts = p.main.split(path.sep);
    if (parts[0] !== SRC_DIR || !p.main.endsWith('.ts')) throw new BuildError(`${p.root}/package.json: "main" must be a .ts file under ${SRC_DIR}/, got '${p.main}'`);
    mains.set(p.name, path.join(p.dir, OUT_DIR, ...parts.slice(1)).replace(/\.ts$/, '.js'));
  }
  return mains;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** One builder per project at a time across processes (parallel `swarm up`, jest, Nx). */
function withLock(root, project, fn) {
  const dir = path.join(root, 'node_modules/.cache/swarm-build');
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, `${project.name.replace(/[^\w.-]/g, '_')}.lock`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(lock, 'utf8') || 0);
      // A builder that died (Ctrl-C mid-build) leaves its lock; an empty one is being written now.
      if (owner > 0 && !alive(owner)) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new BuildError(`${project.root}: still locked by pid ${owner} after ${LOCK_WAIT_MS / 1000} s (${lock})`);
      else sleep(LOCK_POLL_MS);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function compileFile(root, swc, swcOptions, source, code, finalOut, mains) {
  let out;
  try {
    out = swc.transformSync(code, {
      ...swcOptions,
      filename: source,
      swcrc: false,
      sourceMaps: true,
      inlineSourcesContent: false,
      sourceFileName: path.relative(path.dirname(finalOut), source).split(path.sep).join('/'),
    });
  } catch (err) {
    throw new BuildError(`${path.relative(root, source)}: ${String(err.message ?? err).trim()}`);
  }
  const js = out.code.replace(SWARM_REQUIRE, (_all, quote, spec) => {
    const target = mains.get(spec);
    if (!target) throw new BuildError(`${path.relative(root, source)}: requires '${spec}', which is no workspace package with a "main"`);
    const rel = path.relative(path.dirname(finalOut), target).split(path.sep).join('/');
    return `require(${quote}${rel.startsWith('.') ? rel : `./${rel}`}${quote})`;
  });
  return { js: `${js}\n//# sourceMappingURL=${path.basename(finalOut)}.map\n`, map: out.map };
}

function buildProject(root, project, projects, tool, workspace) {
  const swc = require('@swc/core');
  const swcOptions = JSON.parse(fs.readFileSync(path.join(root, '.swcrc'), 'utf8'));
  delete swcOptions.$schema;
  const mains = compiledMains(projects);
  const outDir = path.join(project.dir, OUT_DIR);
  const tmp = path.join(project.dir, `.dist-tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  const files = {};
  const sources = freshness.sourceFilesOf(project);
  const byOutput = new Map();
  for (const file of sources) {
    const other = byOutput.get(freshness.outputNameOf(file));
    if (other) throw new BuildError(`${project.root}/${SRC_DIR}: ${other} and ${file} would both compile to ${OUT_DIR}/${freshness.outputNameOf(file)}`);
    byOutput.set(freshness.outputNameOf(file), file);
  }
  try {
    for (const file of sources) {
      const source = path.join(project.dir, SRC_DIR, file);
      // stat before read: a file edited meanwhile has a newer mtime than recorded, so it is re-hashed.
      const st = fs.statSync(source);
      const content = fs.readFileSync(source);
      files[file] = { size: st.size, mtimeMs: st.mtimeMs, sha1: freshness.sha1(content) };
      const outName = freshness.outputNameOf(file);
      const target = path.join(tmp, outName);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      if (outName === file) {
        fs.writeFileSync(target, content, { mode: st.mode });
        continue;
      }
      const { js, map } = compileFile(root, swc, swcOptions, source, content.toString('utf8'), path.join(outDir, outName), mains);
      fs.writeFileSync(target, js);
      fs.writeFileSync(`${target}.map`, map);
    }
    freshness.writeStamp(project, { tool, workspace, files }, tmp);
    const old = path.join(project.dir, `.dist-old-${process.pid}`);
    if (fs.existsSync(outDir)) fs.renameSync(outDir, old);
    fs.renameSync(tmp, outDir);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Rebuilds every stale project of the workspace at `root` among `only` (roots or names; all when empty).
 * @returns {{ built: string[], checked: number }}
 */
function ensureBuilt({ root = ROOT, only = [], force = false, log = () => undefined } = {}) {
  const projects = workspaceProjects(root);
  const selected =
    only.length === 0
      ? projects
      : only.map((key) => {
          const p = projects.find((x) => x.root === key.replace(/\/+$/, '') || x.name === key);
          if (!p) throw new BuildError(`no workspace project '${key}'`);
          return p;
        });
  const tool = freshness.toolHash(root);
  const workspace = freshness.workspaceHash(projects);
  const built = [];
  for (const project of selected) {
    if (!force && !freshness.staleReason(project, tool, workspace)) continue;
    withLock(root, project, () => {
      // Another process may have built it while this one waited for the lock.
      const reason = force ? 'forced' : freshness.staleReason(project, tool, workspace);
      if (!reason) return;
      const started = Date.now();
      buildProject(root, project, projects, tool, workspace);
      log(`built ${project.root} (${reason}) in ${Date.now() - started} ms`);
      built.push(project.root);
    });
  }
  return { built, checked: selected.length };
}

module.exports = { ensureBuilt, BuildError };

if (require.main === module) {
  const args = process.argv.slice(2);
  const only = [];
  let force = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--project' && args[i + 1]) only.push(args[++i]);
    else if (args[i] === '--force') force = true;
    else {
      process.stderr.write(`usage: build.js [--project <root|name>]... [--force]\n`);
      process.exit(2);
    }
  }
  const started = Date.now();
  try {
    const { built, checked } = ensureBuilt({ only, force, log: (line) => process.stderr.write(`${line}\n`) });
    process.stderr.write(`build: ${built.length} of ${checked} projects compiled, the rest were fresh (${Date.now() - started} ms)\n`);
  } catch (err) {
    process.stderr.write(`error SWARM_BUILD_FAILED: ${err instanceof BuildError ? err.message : err.stack}\n`);
    process.exit(1);
  }
}
