import { createServer } from 'node:net';
import { freePorts, LOOPBACK_HOST } from './free-ports';

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
