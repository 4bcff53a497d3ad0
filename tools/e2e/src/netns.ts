/**
 * Hosts for a multi-host test on one machine (Linux network namespaces, `ip netns`, root only):
 * one namespace per host, each with `lo` up and one veth whose other end sits on a bridge in a
 * hub namespace of its own. Nothing is added to the machine's own namespace (no bridge, route or
 * address there), so the lab's fixed subnet cannot clash with the host's networks or another lab.
 * A link is cut by taking the hub's end of a host's veth down: the host keeps its address, but
 * whatever it sends or is sent is lost in silence (no reset), as on a pulled cable.
 *
 * Every namespace is named `<prefix>-<what>` with a prefix unique to this process
 * (`swn<pid base 36>`); remove() kills what runs in them and deletes them, and
 * removeStaleNamespaces() clears what a killed run left behind.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every lab's namespace names start with this. */
export const NETNS_FAMILY = 'swn';
/** A lab of this family older than this is a leftover of a killed run (no test runs that long). */
export const STALE_NAMESPACE_MS = 60 * 60 * 1000;
/** Where `ip netns add` mounts a namespace; the mount point's mtime is its creation time. */
const NETNS_DIR = '/run/netns';
/** A lab name: the family, a base-36 pid, then what it is (hub, host number, probe). */
const LAB_NAMESPACE = new RegExp(`^${NETNS_FAMILY}[0-9a-z]+-(hub|probe|\\d+)$`);
/** The hosts' /24, private to the lab's hub. */
const SUBNET = '10.213.7';
const BRIDGE = 'br0';
/** The host's end of its veth, inside its namespace. */
const HOST_IFACE = 'eth0';
const IP_TIMEOUT_MS = 10_000;
const QUOTED_CHARS = 300;

export interface NetnsLab {
  readonly prefix: string;
  /** Hosts are numbered from 1. */
  readonly hosts: number;
  /** The namespace of host `i`. */
  namespace(i: number): string;
  /** Host `i`'s address on the bridge. */
  address(i: number): string;
  /** The hub's end of host `i`'s veth: what cut() and restore() take down and up. */
  veth(i: number): string;
  /** `command args` run inside host `i`'s namespace, as arguments of `ip`. */
  execArgs(i: number, command: string, args: readonly string[]): string[];
  /** `ip link set <veth> down`: host `i` loses its link (its processes keep running). */
  cut(i: number): void;
  /** `ip link set <veth> up`. */
  restore(i: number): void;
  /** Kills every process left in the lab's namespaces (by pid) and deletes them; never throws. Answers the pids killed. */
  remove(): number[];
}

/** Runs `ip args`; throws with its stderr when it fails. */
function ip(args: readonly string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: IP_TIMEOUT_MS });
  if (r.error) throw new Error(`ip ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim().slice(0, QUOTED_CHARS)}`);
  return r.stdout;
}

/** The prefix of this process's labs. */
export function labPrefix(pid: number = process.pid): string {
  return `${NETNS_FAMILY}${pid.toString(36)}`;
}

/**
 * Why this machine cannot host a lab (not root, no iproute2, no namespace support), or undefined
 * when it can: one namespace is added and deleted to find out.
 */
export function netnsUnavailable(prefix: string = labPrefix()): string | undefined {
  const probe = `${prefix}-probe`;
  try {
    deleteNamespace(probe);
    ip(['netns', 'add', probe]);
  } catch (err) {
    return (err as Error).message;
  }
  deleteNamespace(probe);
  return undefined;
}

/**
 * Creates `hosts` namespaces on one bridge, host i at `<SUBNET>.i/24`. Namespaces of the same
 * prefix (left by a dead process that had this pid) are removed first. On failure, whatever was
 * created is removed before the error is thrown.
 */
export function createNetnsLab(hosts: number, prefix: string = labPrefix()): NetnsLab {
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 250) throw new Error(`a lab has 1 to 250 hosts, not ${hosts}`);
  const hub = `${prefix}-hub`;
  const namespace = (i: number) => `${prefix}-${i}`;
  const veth = (i: number) => `${prefix}v${i}`;
  const names = () => [hub, ...Array.from({ length: hosts }, (_, i) => namespace(i + 1))];
  const lab: NetnsLab = {
    prefix,
    hosts,
    namespace,
    address: (i) => `${SUBNET}.${i}`,
    veth,
    execArgs: (i, command, args) => ['netns', 'exec', namespace(i), command, ...args],
    cut: (i) => void ip(['-n', hub, 'link', 'set', veth(i), 'down']),
    restore: (i) => void ip(['-n', hub, 'link', 'set', veth(i), 'up']),
    remove: () => removeNamespaces(names()),
  };
  removeNamespaces(namespacesNamed((name) => name.startsWith(`${prefix}-`)));
  try {
    ip(['netns', 'add', hub]);
    ip(['-n', hub, 'link', 'set', 'lo', 'up']);
    ip(['-n', hub, 'link', 'add', BRIDGE, 'type', 'bridge']);
    ip(['-n', hub, 'link', 'set', BRIDGE, 'up']);
    for (let i = 1; i <= hosts; i++) {
      const ns = namespace(i);
      ip(['netns', 'add', ns]);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      // Both ends are made inside their namespaces: the machine's own never holds a lab interface.
      ip(['link', 'add', veth(i), 'netns', hub, 'type', 'veth', 'peer', 'name', HOST_IFACE, 'netns', ns]);
      ip(['-n', hub, 'link', 'set', veth(i), 'master', BRIDGE]);
      ip(['-n', hub, 'link', 'set', veth(i), 'up']);
      ip(['-n', ns, 'addr', 'add', `${lab.address(i)}/24`, 'dev', HOST_IFACE]);
      ip(['-n', ns, 'link', 'set', HOST_IFACE, 'up']);
    }
  } catch (err) {
    lab.remove();
    throw err;
  }
  return lab;
}

/**
 * Removes labs of this family created more than `olderThanMs` ago (leftovers of runs killed
 * before their cleanup), with every process still in them. Answers the namespaces removed.
 */
export function removeStaleNamespaces(nowMs: number, olderThanMs: number = STALE_NAMESPACE_MS): string[] {
  const stale = namespacesNamed((name) => {
    try {
      return nowMs - statSync(join(NETNS_DIR, name)).mtimeMs > olderThanMs;
    } catch {
      return false;
    }
  });
  removeNamespaces(stale);
  return stale;
}

/** Lab namespaces that exist now and pass `keep`. */
function namespacesNamed(keep: (name: string) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
  return names.filter((name) => LAB_NAMESPACE.test(name) && keep(name));
}

/** SIGKILL to every process in the namespaces (a namespace lives on while one runs), then delete. */
function removeNamespaces(names: readonly string[]): number[] {
  const killed: number[] = [];
  for (const name of names) {
    for (const pid of pidsIn(name)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
      } catch {
        // already gone
      }
    }
  }
  for (const name of names) deleteNamespace(name);
  return killed;
}

function pidsIn(name: string): number[] {
  try {
    return ip(['netns', 'pids', name])
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
  } catch {
    return [];
  }
}

function deleteNamespace(name: string): void {
  try {
    ip(['netns', 'del', name]);
  } catch {
    // not there
  }
}
