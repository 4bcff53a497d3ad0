#!/usr/bin/env node
// Enforces the dependency rules of STYLE.md on Nx's project graph (package-based: read from each
// project's package.json) and checks that the graph tells the truth about source imports.
//   type:core    -> core only            type:adapter -> core, adapter
//   type:app     -> core, adapter        type:testing -> core, adapter, testing
//   type:e2e, type:tool -> anything (whole-node tests and benchmarks compose the apps)
// Source: every `@swarm/x` a non-test file imports is a declared dependency; tests may also use
// @swarm/testing; nobody reaches into another project's src/ or across with a relative path.
// Manifest: every dependency a project's package.json declares is imported by one of its files (an
// unused one draws a graph edge that does not exist, and builds and tests what is not needed).
// The purity of type:core projects (no I/O, clock, randomness, timers) is an ESLint rule chosen by
// the same tags: tools/scripts/lint-purity.js.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const ALLOWED = {
  'type:core': ['type:core'],
  'type:adapter': ['type:core', 'type:adapter'],
  'type:app': ['type:core', 'type:adapter'],
  'type:testing': ['type:core', 'type:adapter', 'type:testing'],
  'type:e2e': ['type:core', 'type:adapter', 'type:testing', 'type:app'],
  'type:tool': ['type:core', 'type:adapter', 'type:testing', 'type:app'],
};

function projectGraph() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-graph-')), 'graph.json');
  const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', CI: 'true' };
  execFileSync(path.join(root, 'node_modules/.bin/nx'), ['graph', `--file=${file}`], { cwd: root, env, stdio: 'ignore' });
  const { graph } = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return graph;
}

function typeTag(node) {
  return (node.data.tags || []).find((t) => t.startsWith('type:'));
}

function sourceFiles(dir) {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !(e.parentPath ?? e.path).includes('/gen'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

/** The package an import names (`@scope/name` or `name`), or undefined for relative and node: imports. */
function packageOf(spec) {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) return undefined;
  return spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
}

function declaredInManifest(projectRoot) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, projectRoot, 'package.json'), 'utf8'));
  return Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies });
}

const problems = [];
const graph = projectGraph();
const projects = Object.values(graph.nodes).filter((n) => n.data.root.startsWith('libs/') || n.data.root.startsWith('apps/') || n.data.root.startsWith('tools/'));
const byName = new Map(projects.map((n) => [n.name, n]));

for (const node of projects) {
  const tag = typeTag(node);
  if (!ALLOWED[tag]) {
    problems.push(`${node.name}: needs one of ${Object.keys(ALLOWED).join(', ')} in package.json nx.tags`);
    continue;
  }
  const declared = new Set();
  for (const dep of graph.dependencies[node.name] || []) {
    const target = byName.get(dep.target);
    if (!target) continue;
    declared.add(target.name);
    if (!ALLOWED[tag].includes(typeTag(target))) {
      problems.push(`${node.name} (${tag}) must not depend on ${target.name} (${typeTag(target)})`);
    }
  }
  const srcDir = path.join(root, node.data.root, 'src');
  const imported = new Set();
  for (const file of fs.existsSync(srcDir) ? sourceFiles(srcDir) : []) {
    const text = fs.readFileSync(file, 'utf8');
    // Specs, and the fixtures only specs import, may use @swarm/testing undeclared.
    const isTest = /\.spec\.ts$/.test(file) || file.includes(`${path.sep}test-fixtures${path.sep}`);
    const rel = path.relative(root, file);
    for (const m of text.matchAll(/(?:from|require\(|import\(|^import)\s*['"]([^'"]+)['"]/gm)) {
      const spec = m[1];
      imported.add(packageOf(spec));
      const swarm = /^(@swarm\/[^/]+)(\/.*)?$/.exec(spec);
      if (swarm) {
        if (swarm[2]) problems.push(`${rel}: import '${spec}' reaches inside a package; use its index`);
        else if (swarm[1] !== node.name && !declared.has(swarm[1]) && !(isTest && swarm[1] === '@swarm/testing')) {
          problems.push(`${rel}: imports ${swarm[1]}, which ${node.name}/package.json does not declare`);
        }
      } else if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        if (!target.startsWith(path.join(root, node.data.root) + path.sep)) problems.push(`${rel}: relative import '${spec}' leaves its project`);
      }
    }
  }
  for (const dep of declaredInManifest(node.data.root)) {
    if (!imported.has(dep)) problems.push(`${node.data.root}/package.json: declares ${dep}, which no file in ${node.data.root}/src imports; remove it`);
  }
}

if (problems.length > 0) {
  console.error(`error SWARM_DEPENDENCY_RULES: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dependency rules: ${projects.length} projects ok`);
