/**
 * startNode with real processes: nats-server and the five services from their compiled mains, as
 * `swarm up` runs them. What `swarm health` reports (restarts, last exit, a crash loop, the bus's
 * own restart) comes from node.json, which the library keeps; the stop order is seen from outside,
 * by which processes are still alive as each one stops.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectSwarm } from '@swarm/client';
import { busKeyFile } from '@swarm/identity';
import { DEFAULT_MAX_RESTARTS } from '@swarm/runtime';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import type { NodeFile } from './node-file';
import { NODE_FILE } from './node-file';
import { NODE_SERVICES } from './node-services';
import type { NodeEvent, RunningNode } from './start-node';
import { startNode } from './start-node';
import type { SupervisionReport } from './supervision';
import { isAlive } from './node-file';

jest.setTimeout(180_000);

/** Generous: the machine running the suite may be busy; these bound a hang, not a speed. */
const WAIT_MS = 60_000;
/** A light node: one worker thread per executor. */
const ENV = { SWARM_EXECUTOR_THREADS: '1', SWARM_LOG_LEVEL: 'warn' };

function nodeFile(home: string): NodeFile {
  return JSON.parse(readFileSync(join(home, NODE_FILE), 'utf8')) as NodeFile;
}

describe('startNode - a configuration a service refuses', () => {
  let home: TempDir;
  afterEach(async () => home?.remove());

  it("fails the start with SWARM_BAD_CONFIG and that service's own error from this start, nothing left running", async () => {
    home = await tempDir('swarm-start-config-');
    const start = (value: string) => startNode({ home: home.path, env: { ...ENV, SWARM_VOID_WATCH_MS: value } });
    await expect(start('1.5')).rejects.toMatchObject({ code: 'SWARM_BAD_CONFIG' });
    // Text that is not ASCII in the log before this start (where it begins is counted in bytes).
    appendFileSync(join(home.path, 'logs', 'credit-svc.log'), `${'… × ’ '.repeat(200)}\n`);
    // Logs are appended across starts: the second failure quotes its own value, not the first's.
    const failure = await start('-5').then(
      () => undefined,
      (err: unknown) => err as { code: string; message: string },
    );
    expect(failure?.code).toBe('SWARM_BAD_CONFIG');
    expect(failure?.message).toMatch(/^credit-svc refused its configuration: .*SWARM_VOID_WATCH_MS.*'-5'/);
    expect(failure?.message).not.toContain('1.5');
    expect(failure?.message).not.toContain('\n');
    // The node file is gone with the node: a third start is not refused as running.
    expect(existsSync(join(home.path, NODE_FILE))).toBe(false);
  });
});

describe('startNode - stop order', () => {
  let home: TempDir;
  afterEach(async () => home?.remove());

  it('stops the intakes (api-svc, router-svc) first and nats-server last, each while the ones after it still run', async () => {
    home = await tempDir('swarm-node-');
    const stopped: Array<{ process: string; stillAlive: string[] }> = [];
    let pids: Record<string, number> = {};
    const node = await startNode({
      home: home.path,
      env: ENV,
      onEvent(e: NodeEvent) {
        if (e.kind !== 'stopped') return;
        stopped.push({ process: e.process, stillAlive: Object.keys(pids).filter((name) => isAlive(pids[name])) });
      },
    });
    pids = { ...Object.fromEntries(node.services.map((s) => [s.name, s.pid as number])), 'nats-server': node.natsPid() };
    expect(node.services.map((s) => s.name)).toEqual(NODE_SERVICES.map((s) => s.app));
    // A swarm member's address: the gateway on a loopback port, announced in node.json.
    expect(node.gatewayAddress).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(node.peerAddress).toBe(`${node.nodeId}@${node.gatewayAddress}`);
    // The agents' HTTP API: loopback on a port the OS picked, announced in node.json too.
    expect(node.httpAddress).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(nodeFile(home.path)).toMatchObject({ gatewayAddress: node.gatewayAddress, peerAddress: node.peerAddress, httpAddress: node.httpAddress });
    // A request the client key may not make: refused by nats-server, which says so in its own log.
    const client = await connectSwarm(node.natsUrl, { nkeyFile: busKeyFile(home.path, 'client') });
    await expect(client.audit()).rejects.toMatchObject({ codeName: 'SWARM_PERMISSION_DENIED' });
    await client.close();

    expect(await node.stop()).toBe(0);
    // nats-server's own lines are kept beside the services' logs.
    const natsLog = readFileSync(join(home.path, 'logs', 'nats-server.log'), 'utf8');
    expect(natsLog).toMatch(/Listening for client connections on 127\.0\.0\.1:\d+/);
    expect(natsLog).toMatch(/Publish Violation .*swarm\.v1\.credit\.audit/);
    const order = [...NODE_SERVICES.map((s) => s.app).reverse(), 'nats-server'];
    // The intakes first: agents' HTTP (api-svc), then the bus's task intake.
    expect(order.slice(0, 2)).toEqual(['api-svc', 'router-svc']);
    expect(stopped.map((s) => s.process)).toEqual(order);
    // Seen from outside: when each one has stopped, exactly the ones after it in the order still run.
    expect(stopped.map((s) => s.stillAlive.sort())).toEqual(order.map((_, i) => order.slice(i + 1).sort()));
    expect(Object.values(pids).filter((pid) => isAlive(pid))).toEqual([]);
    expect(existsSync(join(home.path, NODE_FILE))).toBe(false);

    // Started again in the same home: the agents' API and the gateway come back on the same ports
    // (an exported SWARM_API_URL, and peers' cached addresses, still reach the node).
    const again = await startNode({ home: home.path, env: ENV });
    try {
      expect({ http: again.httpAddress, gateway: again.gatewayAddress }).toEqual({ http: node.httpAddress, gateway: node.gatewayAddress });
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });
});

describe('startNode - the supervision report swarm health shows', () => {
  let home: TempDir;
  let node: RunningNode | undefined;
  afterEach(async () => {
    await node?.stop();
    node = undefined;
    await home?.remove();
  });

  it('brings a killed api-svc back at the HTTP address node.json announces (swarm mcp and agents find it there)', async () => {
    home = await tempDir('swarm-node-');
    node = await startNode({ home: home.path, env: ENV });
    const announced = nodeFile(home.path).httpAddress;
    expect(announced).toBe(node.httpAddress);
    const openapi = async () => (await fetch(`http://${announced}/openapi.json`, { signal: AbortSignal.timeout(2_000) })).status;
    expect(await openapi()).toBe(200);
    const first = nodeFile(home.path).supervision?.['api-svc']?.pid as number;
    process.kill(first, 'SIGKILL');
    await waitFor(
      () => {
        const api = nodeFile(home.path).supervision?.['api-svc'];
        return api?.state === 'running' && api.pid !== first;
      },
      { timeoutMs: WAIT_MS, what: 'api-svc restarted' },
    );
    // node.json is not rewritten with a new address: the restarted process must listen on the old one.
    expect(nodeFile(home.path).httpAddress).toBe(announced);
    await waitFor(async () => (await openapi()) === 200, { timeoutMs: WAIT_MS, what: 'the announced HTTP address answers' });
  });

  it('records a killed service restarting, a crash loop as an outage, and nats-server back on its port', async () => {
    home = await tempDir('swarm-node-');
    const reports: SupervisionReport[] = [];
    node = await startNode({ home: home.path, env: ENV, onSupervision: (r) => reports.push(r) });
    const running = node;
    const pidOf = (name: string) => nodeFile(home.path).supervision?.[name]?.pid;
    const started = nodeFile(home.path);
    expect(started).toMatchObject({ natsUrl: running.natsUrl, nodeId: running.nodeId, pid: process.pid, natsPid: running.natsPid() });
    expect(started.supervision?.['gateway-svc']).toEqual({ state: 'running', pid: running.services.find((s) => s.name === 'gateway-svc')?.pid, restarts: 0 });

    // One kill: a restart, its last exit, a new process — in node.json, where `swarm health` reads it.
    const first = pidOf('gateway-svc') as number;
    process.kill(first, 'SIGKILL');
    const once = await waitFor(
      () => {
        const g = nodeFile(home.path).supervision?.['gateway-svc'];
        return g?.state === 'running' && g.pid !== first ? g : undefined;
      },
      { timeoutMs: WAIT_MS, what: 'gateway-svc restarted' },
    );
    expect(once).toMatchObject({ restarts: 1, lastExit: { code: null, signal: 'SIGKILL' } });
    // Back at the address its peers and its records name: the port was fixed at start.
    const observer = await connectSwarm(running.natsUrl, { nkeyFile: busKeyFile(home.path, 'observer'), role: 'observer' });
    try {
      const health = await waitFor(() => observer.health('gateway', 1_000), { timeoutMs: WAIT_MS, what: 'restarted gateway-svc answers' });
      expect(health.details['advertise']).toBe(running.gatewayAddress);
    } finally {
      await observer.close();
    }

    // Killed again and again within the restart window: a crash loop, reported with its next try.
    for (let kill = 2; kill <= DEFAULT_MAX_RESTARTS + 1; kill++) {
      const pid = pidOf('gateway-svc') as number;
      process.kill(pid, 'SIGKILL');
      await waitFor(
        () => {
          const g = nodeFile(home.path).supervision?.['gateway-svc'];
          return g?.state === 'running' && g.pid !== pid && g.restarts === kill;
        },
        { timeoutMs: WAIT_MS, what: `gateway-svc back after kill ${kill}` },
      );
    }
    const loop = reports.map((r) => r['gateway-svc']).find((g) => g?.state === 'crash-looping');
    expect(loop).toMatchObject({ restarts: DEFAULT_MAX_RESTARTS + 1, lastExit: { signal: 'SIGKILL' }, nextRestartAt: expect.any(String) });
    // The other services never noticed.
    expect(running.supervision()['credit-svc']).toMatchObject({ state: 'running', restarts: 0 });

    // The bus: restarted on the same port, its new pid where a later launcher looks for it.
    const natsBefore = running.natsPid();
    process.kill(natsBefore, 'SIGKILL');
    const bus = await waitFor(
      () => {
        const f = nodeFile(home.path);
        return f.supervision?.['nats-server']?.state === 'running' && f.natsPid !== natsBefore ? f : undefined;
      },
      { timeoutMs: WAIT_MS, what: 'nats-server restarted' },
    );
    expect(bus.natsUrl).toBe(running.natsUrl);
    expect(bus.supervision?.['nats-server']).toMatchObject({ restarts: 1, pid: running.natsPid(), lastExit: { code: null } });
    expect(reports.some((r) => r['nats-server']?.state === 'restarting')).toBe(true);
  });
});
