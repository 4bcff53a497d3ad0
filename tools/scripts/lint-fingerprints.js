// Cache keys for `eslint --cache` (npm test). ESLint reuses a file's cached result while the file and
// the config computed for it are unchanged, but the type-aware rules also read the types of what the
// file imports. So each project's files get a config setting that fingerprints every TypeScript file
// of the project and the non-test sources of every @swarm package it depends on, directly or not (plus
// the root TypeScript settings and the lockfile): an edit there changes the config, and every file of
// the project is linted afresh. TypeScript outside the projects (tools/scripts, tools/compose) gets a
// fingerprint of the whole repository's TypeScript. Plain JavaScript is linted without types, so its
// own content is enough.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, workspaceProjects } = require('./workspace-projects');

/** What every type-aware result depends on besides the sources: compiler settings and installed types. */
const ROOT_INPUTS = ['tsconfig.base.json', 'tsconfig.json', 'package-lock.json'];
const SKIP_DIRS = new Set(['node_modules', 'dist', '.nx', 'coverage']);
const isSpec = (name) => /\.spec\.ts$/.test(name);

function sha1(data) {
  return crypto.createHash('sha1').update(data).digest('hex');
}

/** Every .ts file under `dir` (outputs and dependencies skipped), sorted, as [path, sha1]. */
function tsFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() ? SKIP_DIRS.has(e.name) || e.name.startsWith('.dist-') : !e.name.endsWith('.ts')) continue;
    const file = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(file));
    else out.push([path.relative(ROOT, file), sha1(fs.readFileSync(file))]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/**
 * ESLint config objects, one per project plus one for TypeScript outside them, each with
 * `settings.swarmLintInputs`: the fingerprint described above.
 */
function lintFingerprintConfigs(root = ROOT) {
  const projects = workspaceProjects(root);
  const byName = new Map(projects.map((p) => [p.name, p]));
  const files = new Map(projects.map((p) => [p.name, tsFiles(p.dir)]));
  const rootHash = sha1(ROOT_INPUTS.map((f) => (fs.existsSync(path.join(root, f)) ? sha1(fs.readFileSync(path.join(root, f))) : '-')).join());
  const sourcesHash = new Map([...files].map(([name, list]) => [name, sha1(JSON.stringify(list.filter(([f]) => !isSpec(f))))]));
  const closure = (name, seen = new Set()) => {
    if (seen.has(name) || !byName.has(name)) return seen;
    seen.add(name);
    for (const dep of byName.get(name).deps) closure(dep, seen);
    return seen;
  };
  const configs = projects.map((p) => {
    const deps = [...closure(p.name)].filter((n) => n !== p.name).sort();
    const key = sha1(JSON.stringify([rootHash, files.get(p.name), deps.map((d) => [d, sourcesHash.get(d)])]));
    return { name: `swarm/lint-inputs ${p.name}`, files: [`${p.root}/**/*.ts`], settings: { swarmLintInputs: key } };
  });
  const everything = sha1(
    JSON.stringify([rootHash, ...projects.map((p) => files.get(p.name)), tsFiles(path.join(root, 'tools/scripts')), tsFiles(path.join(root, 'tools/compose'))]),
  );
  const inProjects = projects.map((p) => `${p.root}/**`);
  configs.push({ name: 'swarm/lint-inputs outside projects', files: ['**/*.ts'], ignores: inProjects, settings: { swarmLintInputs: everything } });
  return configs;
}

module.exports = { lintFingerprintConfigs };
