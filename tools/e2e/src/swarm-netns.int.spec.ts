/**
 * Issue 13's multi-host test: three nodes, each `swarm up` in its own network namespace with its
 * own address on one bridge (netns.ts), joined through node 1's peer address. Node 1 has no
 * executor for mlp; nodes 2 and 3 have. While node 1's long mlp task runs on one of them, that
 * node's link is cut (`ip link set <veth> down`: silence, no reset): node 1's gateway notices
 * within its keepalive (libs/gateway PEER_KEEPALIVE_*), and the task re-dispatches to the other
 * provider, which is verified and paid; the cut node gets nothing. Then the link comes back and
 * the other provider's goes down: node 1's next task runs on, and pays, the restored node.
 *
 * Each node's nats-server listens on its namespace's loopback, so every `swarm` command runs with
 * `ip netns exec` too. Needs root and iproute2; without them the test is skipped, saying why.
 */
import { resolve } from 'node:path';
import { compiledNodeArgs, spawnProcess } from '@swarm/runtime';
import type { SpawnedProcess } from '@swarm/runtime';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import type { NetnsLab } from './netns';
import { createNetnsLab, netnsUnavailable, removeStaleNamespaces } from './netns';
import { runProcess, SWARM } from './run-cli';

const TEST_TIMEOUT_MS = 150_000;
const CLEANUP_TIMEOUT_MS = 60_000;
const HOSTS = 3;
const SKILL = 'mlp';
/** Largest mlp: about 5 s on one loaded core, long enough to be seen running and cut. */
const LONG_TASK_SIZE = 997;
const SHORT_TASK_SIZE = 200;
/** Room for the cut provider's attempt to be given up (keepalive, ≤ 7 s) and a whole second run. */
const TASK_TIMEOUT_MS = 60_000;
/** Namespaces do not share ports: every gateway listens on this one, at its own address. */
const GATEWAY_PORT = 7700;
const GENESIS_GRANT = '100000';
/**
 * Light nodes: three share two cores. The swarm's chain rules grant every node the local grant,
 * all of it spendable at once: these tasks cost more than a new node's starter allowance.
 */
const ENV = {
  SWARM_EXECUTOR_THREADS: '1',
  SWARM_LOG_LEVEL: 'warn',
  SWARM_NATS_URL: '',
  SWARM_CHAIN_GENESIS_GRANT: GENESIS_GRANT,
  SWARM_CHAIN_STARTER_ALLOWANCE: GENESIS_GRANT,
};
/** These bound a hang on a busy machine; they are not speeds. */
const START_MS = 60_000;
const DISCOVERY_MS = 30_000;
const BUSY_MS = 30_000;
const CLI_MS = 20_000;
const RECOVERY_MS = 40_000;
const STOP_GRACE_MS = 15_000;
/** node-probe.ts as the compiled script (jest's global setup builds it). */
const probeArgs = (args: string[]) => [...compiledNodeArgs(resolve(__dirname, '..'), 'src/node-probe.ts'), ...args];

const skipReason = netnsUnavailable();
if (skipReason) console.warn(`swarm-netns: skipped, network namespaces are unavailable here: ${skipReason}`);
const maybeIt = skipReason ? it.skip : it;
jest.setTimeout(TEST_TIMEOUT_MS);

interface Host {
  readonly index: number;
  readonly home: string;
  readonly nodeId: string;
  readonly peerAddress: string;
}

interface TaskDoc {
  taskId?: string;
  providerId?: string;
  cost?: string;
  attempts?: number;
  settlement?: string;
  state?: string;
  error?: { code: string; message: string };
  timing?: { executeMs: number; totalMs: number };
}

describe(skipReason ? `swarm - three hosts in network namespaces (SKIPPED: ${skipReason.slice(0, 160)})` : 'swarm - three hosts in network namespaces, a link cut mid-task', () => {
  let lab: NetnsLab | undefined;
  const homes: TempDir[] = [];
  const processes: SpawnedProcess[] = [];
  const launchers: SpawnedProcess[] = [];

  beforeAll(() => {
    if (skipReason) return;
    const stale = removeStaleNamespaces(Date.now());
    if (stale.length > 0) console.warn(`swarm-netns: removed namespaces left by killed runs: ${stale.join(', ')}`);
  });

  afterAll(async () => {
    // Probes and CLI runs first; the launchers stop their nodes in order below.
    for (const p of processes) if (!launchers.includes(p) && p.running()) await p.kill('SIGKILL');
    // Links up first, so each node stops as usual (its peers reachable), then SIGINT to each launcher.
    for (let i = 1; i <= HOSTS; i++) {
      try {
        lab?.restore(i);
      } catch {
        // the lab was never complete
      }
    }
    await Promise.all(launchers.map((p) => p.stop(STOP_GRACE_MS, 'SIGINT')));
    // Whatever outlived its launcher dies with the namespaces.
    lab?.remove();
    await Promise.all(homes.map((h) => h.remove()));
  }, CLEANUP_TIMEOUT_MS);

  /** `swarm <args> --json` inside host i's namespace: its exit code and parsed document. */
  async function swarmIn(i: number, args: string[], timeoutMs = CLI_MS): Promise<{ code: number | null; doc: TaskDoc & Record<string, unknown> }> {
    const r = await runProcess('ip', (lab as NetnsLab).execArgs(i, process.execPath, [SWARM, ...args, '--json']), ENV, timeoutMs);
    try {
      return { code: r.code, doc: JSON.parse(r.stdout) as TaskDoc & Record<string, unknown> };
    } catch {
      throw new Error(`swarm ${args.join(' ')} on host ${i} printed no JSON (exit ${r.code}):\n${r.stdout.slice(0, 500)}\n${r.stderr.slice(-2_000)}`);
    }
  }

  /** Credits an account holds in host 1's ledger (0 for an account never paid). */
  async function balanceOnNode1(account: string | undefined): Promise<bigint> {
    const { code, doc } = await swarmIn(1, ['balance', '--data-dir', homes[0].path, ...(account ? ['--account', account] : [])]);
    if (code !== 0 && doc.error?.code === 'SWARM_UNKNOWN_ACCOUNT') return 0n;
    if (code !== 0) throw new Error(`balance of ${account ?? 'node 1'}: ${JSON.stringify(doc.error)}`);
    expect(doc['escrowed']).toBe('0');
    return BigInt(String(doc['available']));
  }

  /** What each provider's account holds in host 1's ledger (what node 1 paid it). */
  async function earnedOnNode1(hosts: readonly Host[]): Promise<Map<string, bigint>> {
    return new Map(await Promise.all(hosts.map(async (h) => [h.nodeId, await balanceOnNode1(h.nodeId)] as const)));
  }

  function submitArgs(from: Host, size: number, key: string): string[] {
    return ['submit', '--data-dir', from.home, '--skill', SKILL, '--size', String(size), '--seed', String(size), '--timeout', String(TASK_TIMEOUT_MS), '--key', key];
  }

  /**
   * A short task from host 1; a lookup that finds no reachable provider yet is refused unpaid
   * (NO_PROVIDER) and asked again, each time under a new key, until RECOVERY_MS.
   */
  async function submitUntilProvided(from: Host, keyPrefix: string): Promise<TaskDoc> {
    const startedAt = Date.now();
    for (let attempt = 1; ; attempt++) {
      const r = await swarmIn(from.index, submitArgs(from, SHORT_TASK_SIZE, `${keyPrefix}-${attempt}`), TASK_TIMEOUT_MS + CLI_MS);
      if (r.code === 0) return r.doc;
      if (r.doc.error?.code !== 'SWARM_NO_PROVIDER' || Date.now() - startedAt > RECOVERY_MS) throw new Error(`task ${keyPrefix}-${attempt} failed: ${JSON.stringify(r.doc.error)}`);
    }
  }

  /** A process inside host i's namespace, cleaned up by afterAll whatever happens. */
  function spawnIn(i: number, args: string[], onLine: (line: string) => void, env: Record<string, string> = {}): SpawnedProcess {
    let buffered = '';
    const proc = spawnProcess({
      command: 'ip',
      args: (lab as NetnsLab).execArgs(i, process.execPath, args),
      env: { ...process.env, ...ENV, ...env },
      onOutput(stream, chunk) {
        if (stream !== 'stdout') return;
        buffered += chunk;
        // A result is megabytes on one line: split only when a line ends.
        if (!chunk.includes('\n')) return;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        lines.forEach(onLine);
      },
    });
    processes.push(proc);
    return proc;
  }

  /** `swarm up` for host i, listening on its own address; resolves once it printed its summary. */
  function startHost(i: number, env: Record<string, string>): Promise<Host> {
    const home = homes[i - 1].path;
    return new Promise((resolveHost, reject) => {
      const proc = spawnIn(
        i,
        [SWARM, 'up', '--data-dir', home, '--json'],
        (line) => {
          clearTimeout(timer);
          const s = JSON.parse(line) as { nodeId: string; peerAddress: string };
          resolveHost({ index: i, home, nodeId: s.nodeId, peerAddress: s.peerAddress });
        },
        { ...env, SWARM_GATEWAY_LISTEN: `${(lab as NetnsLab).address(i)}:${GATEWAY_PORT}` },
      );
      launchers.push(proc);
      const timer = setTimeout(() => reject(new Error(`host ${i}: swarm up did not start within ${START_MS} ms:\n${proc.stderr().slice(-3_000)}`)), START_MS);
      void proc.exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`host ${i}: swarm up exited (${exit.code ?? exit.signal}) before it started:\n${proc.stderr().slice(-3_000)}`));
      });
    });
  }

  /**
   * A probe per host, watching its executor; resolves once all watch. `busy` is the host whose
   * executor runs a task first.
   */
  async function watchExecutors(hosts: readonly Host[]): Promise<{ busy: Promise<Host>; stop(): Promise<void> }> {
    const probes: SpawnedProcess[] = [];
    let found!: (h: Host) => void;
    let failed!: (err: Error) => void;
    const busy = new Promise<Host>((resolveBusy, reject) => {
      found = resolveBusy;
      failed = reject;
    });
    const watching = hosts.map(
      (h) =>
        new Promise<void>((ready) => {
          const probe = spawnIn(h.index, probeArgs(['busy', h.home, String(BUSY_MS)]), (line) => (line === 'watching' ? ready() : line === 'busy' ? found(h) : undefined));
          probes.push(probe);
          void probe.exited.then((exit) => {
            ready();
            if (exit.code !== 0) failed(new Error(`the probe of host ${h.index} exited ${exit.code ?? exit.signal}: ${probe.stderr().slice(-1_000)}`));
          });
        }),
    );
    await Promise.all(watching);
    return { busy, stop: () => Promise.all(probes.map((p) => p.stop(1_000, 'SIGKILL'))).then(() => undefined) };
  }

  maybeIt('re-dispatches a task whose provider is cut off to the other provider, pays only it, and runs on the cut node again once its link is back', async () => {
    lab = createNetnsLab(HOSTS);
    const net = lab;
    for (let i = 1; i <= HOSTS; i++) homes.push(await tempDir(`swarm-netns-${i}-`));

    // Node 1 starts the swarm without mlp; nodes 2 and 3 (mlp only) join through its peer address.
    const node1 = await startHost(1, { SWARM_SKILLS: 'matmul,vecadd', SWARM_GENESIS_GRANT: GENESIS_GRANT });
    expect(node1.peerAddress).toBe(`${node1.nodeId}@${net.address(1)}:${GATEWAY_PORT}`);
    const providers = await Promise.all([2, 3].map((i) => startHost(i, { SWARM_SKILLS: SKILL, SWARM_SEEDS: node1.peerAddress })));
    const [node2, node3] = providers as [Host, Host];
    expect(node2.peerAddress).toBe(`${node2.nodeId}@${net.address(2)}:${GATEWAY_PORT}`);
    expect(node3.peerAddress).toBe(`${node3.nodeId}@${net.address(3)}:${GATEWAY_PORT}`);

    // Found: node 1's registry lists both, at their own addresses, round trips measured.
    let listed = '';
    const lookup = spawnIn(1, probeArgs(['providers', node1.home, SKILL, `${node2.nodeId},${node3.nodeId}`, String(DISCOVERY_MS)]), (line) => (listed = line));
    const lookupExit = await lookup.exited;
    expect({ code: lookupExit.code, stderr: lookup.stderr().slice(-1_000) }).toEqual({ code: 0, stderr: '' });
    const found = JSON.parse(listed) as Array<{ nodeId: string; endpoint: string; local: boolean; rttMs: number }>;
    for (const h of providers) expect(found.find((p) => p.nodeId === h.nodeId)).toMatchObject({ endpoint: h.peerAddress, local: false, rttMs: expect.any(Number) as number });
    expect(found.every((p) => p.rttMs > 0)).toBe(true);

    // The long task: the provider that runs it is cut off mid-run; the other one finishes it.
    const paid0 = await balanceOnNode1(undefined);
    const earned0 = await earnedOnNode1(providers);
    const watch = await watchExecutors(providers);
    let submitted = '';
    const submit = spawnIn(1, [SWARM, ...submitArgs(node1, LONG_TASK_SIZE, 'netns-cut'), '--json'], (line) => (submitted += line));
    const cutNode = await watch.busy;
    const otherNode = cutNode === node2 ? node3 : node2;
    net.cut(cutNode.index);
    const cutAt = Date.now();
    await watch.stop();
    const submitExit = await submit.exited;
    const redispatchMs = Date.now() - cutAt;
    expect({ code: submitExit.code, stderr: submit.stderr().slice(-1_000) }).toEqual({ code: 0, stderr: '' });
    const cut = JSON.parse(submitted) as TaskDoc;
    expect(cut).toMatchObject({ providerId: otherNode.nodeId, settlement: 'TASK_STATE_PAID', attempts: 2 });
    const cost = BigInt(cut.cost ?? '0');
    expect(cost).toBeGreaterThan(0n);
    // The ledger agrees: one payment, to the provider that answered; nothing to the cut node.
    const status = await swarmIn(1, ['task', '--data-dir', node1.home, '--key', 'netns-cut']);
    expect(status.doc).toMatchObject({ state: 'TASK_STATE_PAID', providerId: otherNode.nodeId, cost: cut.cost, attempts: 2 });
    const earned1 = await earnedOnNode1(providers);
    expect(await balanceOnNode1(undefined)).toBe(paid0 - cost);
    expect(earned1.get(otherNode.nodeId)).toBe((earned0.get(otherNode.nodeId) ?? 0n) + cost);
    expect(earned1.get(cutNode.nodeId)).toBe(earned0.get(cutNode.nodeId));

    // Recovery: the cut node's link comes back and the other provider's goes down; node 1's next
    // task runs on the restored node.
    net.restore(cutNode.index);
    net.cut(otherNode.index);
    const restoredAt = Date.now();
    const recovered = await submitUntilProvided(node1, 'netns-recovered');
    const recoveredMs = Date.now() - restoredAt;
    net.restore(otherNode.index);
    expect(recovered).toMatchObject({ providerId: cutNode.nodeId, settlement: 'TASK_STATE_PAID' });
    const cost2 = BigInt(recovered.cost ?? '0');
    const earned2 = await earnedOnNode1(providers);
    expect(earned2.get(cutNode.nodeId)).toBe((earned1.get(cutNode.nodeId) ?? 0n) + cost2);
    expect(earned2.get(otherNode.nodeId)).toBe(earned1.get(otherNode.nodeId));
    expect(await balanceOnNode1(undefined)).toBe(paid0 - cost - cost2);

    console.log(
      `swarm-netns: node ${cutNode.index} cut mid-task; re-dispatched to node ${otherNode.index} and paid ${cost} credits ${redispatchMs} ms after the cut ` +
        `(task ${Math.round(cut.timing?.totalMs ?? 0)} ms, of which dispatch ${Math.round(cut.timing?.executeMs ?? 0)} ms) ` +
        `(attempts ${cut.attempts}); node ${cutNode.index} restored and ran the next task (${cost2} credits, ${recovered.attempts} attempt(s)) ${recoveredMs} ms later`,
    );
  });
});
