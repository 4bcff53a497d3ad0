#!/usr/bin/env node
// Packs what a machine with a GPU and no network needs to check the WebGPU backend: this Node binary,
// the compiled projects, the npm packages they use at run time (the `webgpu` package's Dawn build for
// linux-x64 alone), nats-server and the Vulkan loader's Debian packages. Everything lands in
// .gpu-check/ (git-ignored, about 50 MB: the working tree travels in at most 64 MiB). On the GPU
// machine, from the repository root:
//   bash .gpu-check/run.sh [--quick] [--only webgpu,webasm]   the backend bench (backend-bench.ts)
//   bash .gpu-check/node.sh                                    a whole node, its executors on WebGPU
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ensureCompiled } = require('../../bin/ensure-compiled');

const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, '.gpu-check');
/**
 * gpu.js's optional headless-gl is never loaded by the webgpu, webasm or cpu backends; tsx runs only
 * scripts outside the projects; @swc/core compiles (only its package.json is read, by the build check).
 */
const SKIP = new Set(['gl', 'tsx', '@swc/core']);
/** The Vulkan loader, and the glvnd libraries the NVIDIA ICD (libGLX_nvidia.so.0) links against. */
const DEBS = ['libvulkan1', 'libglvnd0', 'libglx0', 'libgl1', 'libegl1', 'libopengl0', 'libgles2'];
/** X11 client libraries the ICD may also link against: unpacked aside (/tmp/xlibs), not over the system. */
const SIDE_DEBS = ['libx11-6', 'libxext6', 'libxcb1', 'libxau6', 'libxdmcp6'];
const SETUP_SH = `# Made by tools/scripts/pack-gpu-check.js; sourced by run.sh and node.sh from the repository root.
set -euo pipefail
here=.gpu-check
for f in "$here"/debs/*.deb; do dpkg -x "$f" /; done
ldconfig
for f in "$here"/side-debs/*.deb; do dpkg -x "$f" /tmp/xlibs; done
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/tmp/xlibs/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The NVIDIA driver's Vulkan ICD where the device image keeps it (see the device tool's README).
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; break; fi
done
xz -dc "$here/node.xz" > /tmp/node && chmod +x /tmp/node
xz -dc "$here/nats-server.xz" > /tmp/nats-server && chmod +x /tmp/nats-server
rm -rf node_modules && tar -xJf "$here/node_modules.tar.xz"
(cd "$here/dist" && find . -type d -name dist -prune | while read -r d; do mkdir -p "../../$(dirname "$d")" && rm -rf "../../$d" && cp -a "$d" "../../$d"; done)
/tmp/node --version
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
# What the ICD's library still lacks, if anything.
icd_lib=$(sed -n 's/.*"library_path": *"\\([^"]*\\)".*/\\1/p' "\${VK_DRIVER_FILES:-/dev/null}" | head -1)
echo "Vulkan ICD: \${VK_DRIVER_FILES:-none} -> \${icd_lib:-?}"
for d in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64; do
  if [ -n "$icd_lib" ] && [ -f "$d/$icd_lib" ]; then echo "  $d/$icd_lib"; ldd "$d/$icd_lib" | grep 'not found' || true; fi
done
# Which adapter Dawn finds, if any, before gpu.js is asked to use it.
/tmp/node --input-type=module -e "import { create, globals } from './node_modules/webgpu/index.js';
Object.assign(globalThis, globals);
const a = await create([]).requestAdapter();
const i = a?.info;
console.log('WebGPU adapter:', i ? [i.vendor, i.architecture, i.device, i.description].join(' / ') : 'none');
process.exit(0);" || true
`;
const RUN_SH = `#!/bin/bash
# Made by tools/scripts/pack-gpu-check.js: the backend bench (tools/bench/src/backend-bench.ts).
source .gpu-check/setup.sh
exec /tmp/node tools/bench/dist/backend-bench.js "$@"
`;
const NODE_SH = `#!/bin/bash
# Made by tools/scripts/pack-gpu-check.js: one node as \`swarm up\` runs it, its executors on WebGPU
# (SWARM_GPU_BACKEND=webgpu: no fallback), then the largest task of each skill, verified and paid.
source .gpu-check/setup.sh
set +e
# A large grant: the largest tasks cost more than a new node's starter allowance.
export SWARM_NATS_SERVER=/tmp/nats-server SWARM_GPU_BACKEND=webgpu SWARM_HOME=/tmp/swarm-gpu-node SWARM_NATS_URL= SWARM_GENESIS_GRANT=1000000
swarm() { /tmp/node apps/cli/dist/main.js "$@"; }
swarm up > /tmp/swarm-up.log 2>&1 &
up=$!
for _ in $(seq 1 120); do swarm health > /dev/null 2>&1 && break; sleep 1; done
swarm health
for task in "matmul 1000" "matmul 1000" "matmul 512" "mlp 700" "vecadd 1000000" "matmul 1000 --redundancy 1 --shards 4"; do
  set -- $task
  echo "== swarm submit --skill $1 --size \${*:2}"
  swarm submit --skill "$1" --size "\${@:2}"
done
swarm balance
# SIGTERM: a background job of a script ignores SIGINT.
kill -TERM "$up"; wait "$up"
echo "swarm up exited $?"
tail -5 /tmp/swarm-up.log
`;

/** Node's lookup, by hand: `require.resolve('x/package.json')` fails where x's exports omit it. */
function packageDir(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (dir === path.dirname(dir)) throw new Error(`${name} is not installed`);
  }
}

/** The npm packages the projects use at run time: the root's dependencies and every project's own. */
function runtimeRoots() {
  const deps = (file) => Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).dependencies ?? {});
  const names = new Set(deps(path.join(ROOT, 'package.json')));
  for (const group of ['libs', 'apps', 'tools']) {
    for (const project of fs.readdirSync(path.join(ROOT, group))) {
      const file = path.join(ROOT, group, project, 'package.json');
      if (fs.existsSync(file)) for (const name of deps(file)) if (!name.startsWith('@swarm/')) names.add(name);
    }
  }
  return [...names];
}

/** Each runtime package and everything it depends on, as directories under node_modules. */
function closure() {
  const seen = new Map();
  const visit = (name, from) => {
    if (SKIP.has(name)) return;
    let dir;
    try {
      dir = packageDir(name, from);
    } catch {
      return; // an optional dependency this machine does not have
    }
    if (seen.has(dir)) return;
    seen.set(dir, name);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep, dir);
  };
  for (const name of runtimeRoots()) visit(name, ROOT);
  return [...seen.keys()];
}

function copyPackage(dir) {
  const rel = path.relative(ROOT, dir);
  const target = path.join(OUT, rel);
  fs.cpSync(dir, target, {
    recursive: true,
    dereference: true,
    // webgpu ships Dawn for five platforms (130 MB); the GPU machine is linux-x64.
    filter: (src) => !/[\\/]webgpu[\\/]dist[\\/](?!linux-x64)[^\\/]+$/.test(src),
  });
}

function main() {
  ensureCompiled();
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(path.join(OUT, 'debs'), { recursive: true });
  for (const dir of closure()) copyPackage(dir);
  // The build check hashes the compiler's package.json (tools/scripts/build-freshness.js).
  fs.mkdirSync(path.join(OUT, 'node_modules/@swc/core'), { recursive: true });
  fs.copyFileSync(require.resolve('@swc/core/package.json'), path.join(OUT, 'node_modules/@swc/core/package.json'));
  // Compressed: Dawn alone is 21 MB, and the working tree travels in at most 64 MiB.
  execFileSync('tar', ['-cJf', 'node_modules.tar.xz', 'node_modules'], { cwd: OUT, env: { ...process.env, XZ_OPT: '-T0 -6' } });
  fs.rmSync(path.join(OUT, 'node_modules'), { recursive: true });
  for (const group of ['libs', 'apps', 'tools']) {
    for (const project of fs.readdirSync(path.join(ROOT, group))) {
      const dist = path.join(ROOT, group, project, 'dist');
      if (fs.existsSync(dist)) fs.cpSync(dist, path.join(OUT, 'dist', group, project, 'dist'), { recursive: true });
    }
  }
  execFileSync('sh', ['-c', `xz -T0 -6 -c "${process.execPath}" > "${path.join(OUT, 'node.xz')}"`]);
  const natsServer = process.env.SWARM_NATS_SERVER || execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim();
  execFileSync('sh', ['-c', `xz -T0 -6 -c "${natsServer}" > "${path.join(OUT, 'nats-server.xz')}"`]);
  // The Vulkan loader Dawn opens; the driver's ICD is on the GPU machine already, but without glvnd the
  // loader finds it and still reports "no drivers".
  const lists = fs.mkdtempSync('/tmp/gpu-check-apt-');
  const apt = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', `-oDir::State::Lists=${lists}`];
  fs.mkdirSync(path.join(lists, 'partial'));
  execFileSync('apt-get', [...apt, 'update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', [...apt, 'download', '-qq', ...DEBS], { cwd: path.join(OUT, 'debs'), stdio: 'inherit' });
  fs.mkdirSync(path.join(OUT, 'side-debs'));
  execFileSync('apt-get', [...apt, 'download', '-qq', ...SIDE_DEBS], { cwd: path.join(OUT, 'side-debs'), stdio: 'inherit' });
  fs.rmSync(lists, { recursive: true, force: true });
  fs.writeFileSync(path.join(OUT, 'setup.sh'), SETUP_SH);
  fs.writeFileSync(path.join(OUT, 'run.sh'), RUN_SH, { mode: 0o755 });
  fs.writeFileSync(path.join(OUT, 'node.sh'), NODE_SH, { mode: 0o755 });
  const size = execFileSync('du', ['-sh', OUT], { encoding: 'utf8' }).trim();
  process.stdout.write(`packed ${size}; on the GPU machine: bash .gpu-check/run.sh [--quick] [--only webgpu,webasm,cpu], or bash .gpu-check/node.sh\n`);
}

main();
