import { createServer } from 'node:net';
import { freePorts, LOOPBACK_HOST, pinnedListen, pinnedPort, pinnedPorts, unpinListen } from './free-ports';

/**
 * Ports free now and pinned by no test before (freePorts may hand back a port an earlier test pinned
 * and never bound: this process would refuse it as pinned): pinned, then given back.
 */
async function unpinnedFreePorts(count: number): Promise<number[]> {
  const ports = await pinnedPorts(count);
  unpinListen(...ports.map((port) => `${LOOPBACK_HOST}:${port}`));
  return ports;
}

describe('freePorts - gateway ports for the nodes one launcher starts', () => {
  it('answers distinct ports that can be listened on at once', async () => {
    const ports = await freePorts(8);
    expect(new Set(ports).size).toBe(8);
    const servers = await Promise.all(
      ports.map(
        (port) =>
          new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
            const s = createServer();
            s.once('error', reject);
            s.listen(port, LOOPBACK_HOST, () => resolve(s));
          }),
      ),
    );
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });
});

describe('pinned ports - one process never hands a port out twice', () => {
  it('pins distinct ports across calls, for listen addresses and bare ports alike, and keeps given ones', async () => {
    const addresses = await Promise.all(Array.from({ length: 6 }, () => pinnedListen(undefined)));
    const ports = [...addresses.map((a) => Number(a.split(':')[1])), ...(await Promise.all(Array.from({ length: 6 }, () => pinnedPort())))];
    expect(ports.every((p) => Number.isInteger(p) && p !== undefined && p > 0)).toBe(true);
    expect(new Set(ports).size).toBe(ports.length);
    expect(addresses.every((a) => a.startsWith(`${LOOPBACK_HOST}:`))).toBe(true);
    expect(await pinnedListen('127.0.0.1:4711')).toBe('127.0.0.1:4711');
  });
});

describe("pinned ports - a launcher's gateway ports", () => {
  it("pins them at once: a nats-server's port (pinnedPort) is never one of them", async () => {
    const gateways = await pinnedPorts(3);
    expect(new Set(gateways).size).toBe(3);
    // Pinned: free as each is, none is handed out again, not even to a node that had it last time.
    for (const port of gateways) expect(await pinnedListen(undefined, port)).not.toBe(`${LOOPBACK_HOST}:${port}`);
  });
});

describe("pinned ports - a launcher's gateway ports, each node's last one when free", () => {
  it('gives node i the port it had last time when free and not pinned; a port two nodes had, to the first of them only', async () => {
    const [first, second] = await unpinnedFreePorts(2);
    const ports = await pinnedPorts(4, LOOPBACK_HOST, [first, undefined, second, second]);
    expect(ports[0]).toBe(first);
    expect(ports[2]).toBe(second);
    expect(new Set(ports).size).toBe(4);
    // Pinned now: preferred again, they are not given out a second time.
    const again = await pinnedPorts(2, LOOPBACK_HOST, [first, second]);
    expect(again.filter((p) => p === first || p === second)).toEqual([]);
  });
});

describe('pinned ports - the port a node had last time', () => {
  it('takes the preferred port when it is free, and another when it is taken or pinned already', async () => {
    const [free] = await unpinnedFreePorts(1);
    expect(await pinnedListen(undefined, free)).toBe(`${LOOPBACK_HOST}:${free}`);
    // Pinned now: a second node preferring it gets another.
    const again = await pinnedListen(undefined, free);
    expect(again).not.toBe(`${LOOPBACK_HOST}:${free}`);
    // Bound by someone else: another.
    const [busy] = await unpinnedFreePorts(1);
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(busy, LOOPBACK_HOST, () => resolve()));
    try {
      expect(await pinnedListen(undefined, busy)).not.toBe(`${LOOPBACK_HOST}:${busy}`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    // A port given keeps its place whatever is preferred.
    expect(await pinnedListen('127.0.0.1:4712', free)).toBe('127.0.0.1:4712');
  });
});
