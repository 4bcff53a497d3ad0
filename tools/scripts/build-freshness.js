// Is a project's compiled output (`<project>/dist`) exactly what its sources compile to now? Each
// build writes a stamp listing every source's size, mtime and SHA-1 plus a hash of the build tool
// itself; a check stats every source (a few ms for the whole repo, cheap enough for every `swarm`
// run) and hashes only files whose size or mtime moved, so a touched but unchanged file costs one
// read and an edit with an older mtime (cp -p, tar) is still caught.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, SRC_DIR, OUT_DIR } = require('./workspace-projects');

const STAMP_FILE = '.build-stamp.json';
/** What the output also depends on: this build code, the compiler and its settings (`.swcrc` at the root). */
const TOOL_FILES = [path.join(__dirname, 'build.js'), __filename, require.resolve('@swc/core/package.json')];

function sha1(data) {
  return crypto.createHash('sha1').update(data).digest('hex');
}

function toolHash(root = ROOT) {
  return sha1([...TOOL_FILES, path.join(root, '.swcrc')].map((f) => sha1(fs.readFileSync(f))).join());
}

/** Requires of `@swarm/*` are rewritten to paths, so every output depends on where each package lives. */
function workspaceHash(projects) {
  return sha1(JSON.stringify(projects.map((p) => [p.name, p.root, p.main ?? null])));
}

const isSpec = (name) => /\.spec\.[cm]?[jt]s$/.test(name);

/** Every file of `src/` that goes into `dist/` (tests stay out), relative to src, posix. */
function sourceFilesOf(project) {
  const src = path.join(project.dir, SRC_DIR);
  if (!fs.existsSync(src)) return [];
  return fs
    .readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !isSpec(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) =>
      path
        .relative(src, path.join(e.parentPath ?? e.path, e.name))
        .split(path.sep)
        .join('/'),
    )
    .sort();
}

/** `a/b.ts` → `a/b.js`; other files are copied as they are (the gpu.js worker entry, assets). */
function outputNameOf(file) {
  return file.replace(/\.ts$/, '.js');
}

function readStamp(project) {
  try {
    return JSON.parse(fs.readFileSync(path.join(project.dir, OUT_DIR, STAMP_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Why `project`'s output is stale, or undefined when it is fresh. A fresh stamp whose mtimes moved
 * (same content) is rewritten so the next check is all stats again.
 */
function staleReason(project, tool, workspace) {
  const stamp = readStamp(project);
  if (!stamp) return 'never built';
  if (stamp.tool !== tool) return 'build tool changed';
  if (stamp.workspace !== workspace) return 'workspace packages changed';
  const files = sourceFilesOf(project);
  const recorded = Object.keys(stamp.files);
  if (files.length !== recorded.length || files.some((f, i) => f !== recorded[i])) return 'sources added or removed';
  let moved = false;
  for (const file of files) {
    const entry = stamp.files[file];
    const source = path.join(project.dir, SRC_DIR, file);
    const st = fs.statSync(source);
    if (!fs.existsSync(path.join(project.dir, OUT_DIR, outputNameOf(file)))) return `${OUT_DIR}/${outputNameOf(file)} is missing`;
    if (st.size === entry.size && st.mtimeMs === entry.mtimeMs) continue;
    if (sha1(fs.readFileSync(source)) !== entry.sha1) return `${SRC_DIR}/${file} changed`;
    entry.size = st.size;
    entry.mtimeMs = st.mtimeMs;
    moved = true;
  }
  if (moved) writeStamp(project, stamp);
  return undefined;
}

/** Best effort, atomic: a reader sees the old stamp or the new one. */
function writeStamp(project, stamp, outDir = path.join(project.dir, OUT_DIR)) {
  const file = path.join(outDir, STAMP_FILE);
  const tmp = `${file}.${process.pid}`;
  try {
    fs.writeFileSync(tmp, JSON.stringify(stamp));
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

module.exports = { STAMP_FILE, toolHash, workspaceHash, sourceFilesOf, outputNameOf, staleReason, readStamp, writeStamp, sha1 };
