import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import { LISTEN_PORTS_FILE, readListenPorts, writeListenPorts } from './listen-ports';

let dir: TempDir;
beforeEach(async () => {
  dir = await tempDir('swarm-listen-ports-');
});
afterEach(() => dir.remove());

describe('listen ports - what a node listened on last time', () => {
  it('remembers the ports of the addresses it listened on, and reads them back', async () => {
    expect(await readListenPorts(dir.path)).toEqual({});
    await writeListenPorts(dir.path, { gateway: '127.0.0.1:40001', http: '127.0.0.1:40002' });
    expect(await readListenPorts(dir.path)).toEqual({ gateway: 40001, http: 40002 });
    // Port 0 (none fixed) is not remembered.
    await writeListenPorts(dir.path, { gateway: '127.0.0.1:0', http: '127.0.0.1:40003' });
    expect(await readListenPorts(dir.path)).toEqual({ http: 40003 });
  });

  it('prefers nothing from a damaged, foreign or oversized file', async () => {
    const file = join(dir.path, LISTEN_PORTS_FILE);
    for (const text of ['not json', '{"gateway": 70000, "http": -1}', '{"gateway": "80"}', `{"gateway": 1, "pad": "${'x'.repeat(300)}"}`, '[]', 'null']) {
      await writeFile(file, text);
      expect(await readListenPorts(dir.path)).toEqual({});
    }
  });
});
